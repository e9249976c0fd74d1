import type { Job, Payment } from '@agora/db'

/**
 * A job as anyone may read it: both parties, the money (base units of `token`), the state, what was
 * delivered and the transactions that moved it on. Jobs are public on-chain already; the input and
 * the deliverable are what the hashes there commit to.
 */
export function jobView(job: Job) {
  return {
    jobId: job.jobId,
    status: job.status,
    offering: job.offering,
    client: { agentId: job.clientAgentId, address: job.clientAddress },
    provider: { agentId: job.providerAgentId, chainAgentId: job.providerChainAgentId },
    evaluator: job.evaluator,
    token: job.token,
    budget: job.budget,
    fee: job.fee,
    payout: job.payout,
    deadline: job.deadline,
    input: job.input,
    specHash: job.specHash,
    deliverable: job.deliverable,
    deliverableHash: job.deliverableHash,
    rating: job.rating,
    transactions: { create: job.createTx, submit: job.submitTx, settle: job.settleTx },
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  }
}

/** An outgoing payment: to whom, how much (base units of `token`), its state and its transaction. */
export function paymentView(payment: Payment) {
  return {
    id: payment.id,
    status: payment.status,
    to: { chainAgentId: payment.toChainAgentId, address: payment.toAddress },
    token: payment.token,
    amount: payment.amount,
    memo: payment.memo,
    txHash: payment.txHash,
    createdAt: payment.createdAt,
    updatedAt: payment.updatedAt,
  }
}
