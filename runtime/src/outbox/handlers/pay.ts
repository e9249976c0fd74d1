import { InternalError, updatePayment } from '@agora/db'
import { safeCallHandler } from './safe-call.ts'

/**
 * A direct payment: the agent's Safe calls the economy's `pay`. A Safe's queued payments go out
 * together (one transaction through MultiSendCallOnly), each with its own row and `Paid` event.
 */
export const payHandler = safeCallHandler({
  batch: true,
  async onSettled(client, intent, receipt) {
    const paymentId = String(intent.payload.paymentId)
    const payment = await client.payments.confirm({ id: paymentId, txHash: receipt.transactionHash })
    if (!payment) throw new InternalError(`Payment ${paymentId} is not in the database.`)
    const payee = payment.toChainAgentId ? await client.agents.byChainId(payment.toChainAgentId) : undefined
    const data = {
      event: 'paid',
      paymentId,
      from: payment.fromAgentId,
      to: payment.toChainAgentId,
      amount: await client.tokens.moneyOf(payment.amount, payment.token),
      memo: payment.memo,
      txHash: receipt.transactionHash,
    }
    await client.activity.recordMany([
      { agentId: intent.agentId, kind: 'payment', data: { direction: 'out', ...data } },
      ...(payee ? [{ agentId: payee.id, kind: 'payment' as const, data: { direction: 'in', ...data } }] : []),
    ])
    return { paymentId }
  },
  async onFailed(client, intent, error) {
    const payment = await updatePayment(client.db, String(intent.payload.paymentId), { status: 'failed' })
    client.guard.release(payment.fromAgentId!, payment.idempotencyKey)
    await client.activity.record(intent.agentId, 'payment', {
      event: 'payment failed',
      paymentId: intent.payload.paymentId,
      failed: error.shortMessage,
    })
  },
})
