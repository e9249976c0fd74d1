import { type Agent, InternalError, type Payment, tables, updatePayment } from '@agora/db'
import { x402Client } from '@x402/core/client'
import type { Network, PaymentPayload, PaymentRequired, PaymentRequirements } from '@x402/core/types'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { and, eq, sql } from 'drizzle-orm'
import { type Address, type Hex, isHash, type PublicClient, parseAbi, parseEventLogs } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { wrapChainError } from '../../errors.ts'
import { toSafeTypedSigner } from '../../wallet/safe-typed-signer.ts'
import { topUpHotWallet, x402Payer } from './hot-wallet.ts'

/** The EIP-3009 parts the runtime reads: whether an authorization was used, and where. */
const eip3009Abi = parseAbi([
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)',
])

/** An EIP-3009 authorization a Safe signed for an x402 payment, as the payment payload carries it. */
export type X402Authorization = {
  from: Address
  to: Address
  value: string
  validAfter: string
  validBefore: string
  nonce: Hex
}

/** A signed payment as stored before it is sent: the payload, its authorization, and the block to look for it from. */
export type SignedAuthorization = {
  payload: PaymentPayload
  authorization: X402Authorization
  fromBlock: bigint
}

/** The activity entry that holds a signed payment (its `signedPayment` is for the agent's owner only). */
const signedEvent = 'x402 authorization signed'

/**
 * Signs `option` with x402's `exact` client (an EIP-3009 authorization): from the agent's hot wallet,
 * topped up through the agent module first (`topUpHotWallet`), or from an older agent's Safe (an
 * ERC-1271 signature by its key, an owner there). Then it stores it in the agent's activity and marks the
 * payment `sent`, all before it leaves the process: a retry sends the same authorization again
 * instead of signing another. The option was chosen and checked by the caller, and the payment
 * recorded; the client signs it as given (no spend controls of its own).
 *
 * @example
 * const signed = await signAuthorization(client, agent, { payment, required, option })
 */
export async function signAuthorization(
  client: RuntimeClient,
  agent: Agent & { safeAddress: string },
  parameters: { payment: Payment; required: PaymentRequired; option: PaymentRequirements },
): Promise<SignedAuthorization> {
  const { payment, required, option } = parameters
  const fromBlock = await client.chain.publicClient.getBlockNumber().catch((error: unknown) => {
    throw wrapChainError(error, 'Reading the chain')
  })
  const payer = await x402Payer(client, agent)
  if (payer.hot) await topUpHotWallet(client, agent, payment)
  const key = client.signers.of(agent)
  const signer = payer.hot
    ? key
    : toSafeTypedSigner({ safe: agent.safeAddress as Address, owner: key, chainId: client.chain.chainId })
  const x402 = new x402Client(() => option)
    .register(option.network as Network, new ExactEvmScheme(signer))
    .setSpendControls(false)
  const payload = await x402
    .createPaymentPayload({ ...required, accepts: [option] })
    .catch((cause: unknown) => {
      throw new InternalError(`Signing the x402 payment ${payment.id} failed.`, { cause })
    })
  const authorization = payload.payload.authorization as X402Authorization | undefined
  if (
    authorization?.from.toLowerCase() !== payment.fromAddress ||
    authorization.to.toLowerCase() !== payment.toAddress ||
    authorization.value !== payment.amount
  )
    throw new InternalError(
      `The x402 authorization signed for payment ${payment.id} is not the one recorded.`,
    )
  await client.activity.record(agent.id, 'payment', {
    event: signedEvent,
    direction: 'out',
    kind: 'x402',
    paymentId: payment.id,
    resource: payment.resource,
    to: payment.toAddress,
    amount: await client.tokens.moneyOf(payment.amount, payment.token),
    validBefore: new Date(Number(authorization.validBefore) * 1_000).toISOString(),
    fromBlock: fromBlock.toString(),
    signedPayment: payload,
  })
  await updatePayment(client.db, payment.id, { status: 'sent' })
  return { payload, authorization, fromBlock }
}

/**
 * The authorization stored for `payment` by `signAuthorization`, if it was ever signed.
 *
 * @example
 * const signed = await storedAuthorization(client, payment)
 */
export async function storedAuthorization(
  client: Pick<RuntimeClient, 'db'>,
  payment: Payment,
): Promise<SignedAuthorization | undefined> {
  const { activity } = tables
  const [row] = await client.db
    .select({ data: activity.data })
    .from(activity)
    .where(
      and(
        eq(activity.agentId, payment.fromAgentId!),
        eq(activity.kind, 'payment'),
        sql`${activity.data}->>'event' = ${signedEvent}`,
        sql`${activity.data}->>'paymentId' = ${payment.id}`,
      ),
    )
    .limit(1)
  if (!row) return undefined
  const payload = row.data.signedPayment as unknown as PaymentPayload
  return {
    payload,
    authorization: payload.payload.authorization as X402Authorization,
    fromBlock: BigInt(String(row.data.fromBlock)),
  }
}

/** Where an authorization stands on chain: used in a transaction, or not (yet). */
export type AuthorizationState = { settled: true; txHash: Hex } | { settled: false }

/**
 * Whether `authorization` moved the tokens, judged by the chain alone: the receipt of the
 * transaction the server named (successful, with the token's `AuthorizationUsed` for this payer and
 * nonce), or else the token's `authorizationState` and its `AuthorizationUsed` log since `fromBlock`.
 * A nonce marked used without that log was cancelled, not paid: not settled.
 *
 * @example
 * const state = await authorizationState(publicClient, { token, authorization, transaction, fromBlock })
 */
export async function authorizationState(
  publicClient: PublicClient,
  parameters: { token: Address; authorization: X402Authorization; transaction?: string; fromBlock: bigint },
): Promise<AuthorizationState> {
  const { token, authorization, transaction, fromBlock } = parameters
  const ours = (log: { address: string; args: { authorizer?: string; nonce?: string } }) =>
    log.address.toLowerCase() === token.toLowerCase() &&
    log.args.authorizer?.toLowerCase() === authorization.from.toLowerCase() &&
    log.args.nonce?.toLowerCase() === authorization.nonce.toLowerCase()
  if (transaction && isHash(transaction)) {
    const receipt = await publicClient
      .waitForTransactionReceipt({ hash: transaction, timeout: 15_000, pollingInterval: 250 })
      .catch(() => undefined)
    if (receipt?.status === 'success') {
      const used = parseEventLogs({ abi: eip3009Abi, logs: receipt.logs, eventName: 'AuthorizationUsed' })
      if (used.some(ours)) return { settled: true, txHash: receipt.transactionHash }
    }
  }
  const used = await publicClient.readContract({
    address: token,
    abi: eip3009Abi,
    functionName: 'authorizationState',
    args: [authorization.from, authorization.nonce],
  })
  if (!used) return { settled: false }
  const logs = await publicClient.getLogs({
    address: token,
    event: eip3009Abi[1],
    args: { authorizer: authorization.from, nonce: authorization.nonce },
    fromBlock,
  })
  const log = logs.find(ours)
  return log ? { settled: true, txHash: log.transactionHash } : { settled: false }
}
