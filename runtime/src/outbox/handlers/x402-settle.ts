import { InternalError, updatePayment } from '@agora/db'
import type { Address, Hex } from 'viem'
import type { IntentHandler } from '../intent-handler.ts'

/** What an x402 settlement intent carries: the token's `transferWithAuthorization` call and the sale it pays. */
export type X402SettlePayload = { token: Address; data: Hex; payer: Address; paymentId: string }

/**
 * An x402 sale settled on chain: a relayer sends the payer's EIP-3009 authorization to the token
 * (`transferWithAuthorization`), which moves the price to the agent's Safe. The sale's payment row
 * was recorded with the intent, so a crash between signing and the receipt loses nothing: recovery
 * sends the same transaction and confirms it here.
 */
export const x402SettleHandler: IntentHandler = {
  lane: (payload) => `x402:${String(payload.payer).toLowerCase()}`,
  async build(_client, intent) {
    const p = intent.payload as X402SettlePayload
    return { to: p.token, data: p.data }
  },
  async onSettled(client, intent, receipt) {
    const p = intent.payload as X402SettlePayload
    const payment = await client.payments.confirm({ id: p.paymentId, txHash: receipt.transactionHash })
    if (!payment) throw new InternalError(`Payment ${p.paymentId} is not in the database.`)
    await client.activity.record(intent.agentId, 'payment', {
      event: 'paid',
      direction: 'in',
      kind: 'x402',
      paymentId: payment.id,
      from: payment.fromAddress,
      to: payment.toChainAgentId,
      amount: await client.tokens.moneyOf(payment.amount, payment.token),
      resource: payment.resource,
      txHash: receipt.transactionHash,
    })
    return { paymentId: payment.id }
  },
  async onFailed(client, intent, error) {
    const p = intent.payload as X402SettlePayload
    await updatePayment(client.db, p.paymentId, { status: 'failed' })
    await client.activity.record(intent.agentId, 'payment', {
      event: 'x402 settlement failed',
      paymentId: p.paymentId,
      error: error.shortMessage,
    })
  },
}
