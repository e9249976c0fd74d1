import { getPaymentByKey, InternalError, insertPayment } from '@agora/db'
import { x402Facilitator } from '@x402/core/facilitator'
import type { Network, PaymentPayload, PaymentRequirements } from '@x402/core/types'
import type { FacilitatorEvmSigner } from '@x402/evm'
import { registerExactEvmScheme } from '@x402/evm/exact/facilitator'
import { type Abi, type Address, concat, encodeFunctionData, type Hex } from 'viem'
import { sendRecorded } from '../actions/payments/send-recorded.ts'
import type { RuntimeClient } from '../client.ts'
import type { X402SettlePayload } from '../outbox/handlers/x402-settle.ts'
import { recordIntent } from '../outbox/record-intent.ts'

/** An EIP-3009 authorization as the `exact` scheme carries it. */
type Authorization = {
  from: Address
  to: Address
  value: string
  validAfter: string
  validBefore: string
  nonce: Hex
}

/** The key of an x402 sale: one per token, payer and authorization nonce (what EIP-3009 spends once). */
export const saleKey = (token: string, from: string, nonce: string) =>
  `x402-sale:${token.toLowerCase()}:${from.toLowerCase()}:${nonce.toLowerCase()}`

/**
 * The runtime's own x402 facilitator: verifies `exact` (EIP-3009) payments to agents hosted here and
 * settles them on chain through the outbox, so a settlement is recorded (the sale's payment row and
 * its intent) before a relayer signs it, and a crash or a retry never settles twice. An
 * authorization seen before is refused: a replay is never delivered twice.
 *
 * @example
 * const facilitator = createSaleFacilitator(client)
 * await facilitator.settle(payload, requirements)
 */
export function createSaleFacilitator(client: RuntimeClient) {
  const network: Network = `eip155:${client.chain.chainId}`
  const facilitator = new x402Facilitator()
  registerExactEvmScheme(facilitator, {
    signer: outboxSigner(client),
    networks: network,
    simulateInSettle: true,
  })
  facilitator.onBeforeSettle(async ({ paymentPayload, requirements }) => {
    const refused = await recordSale(client, paymentPayload, requirements)
    return refused ? { abort: true as const, reason: refused } : undefined
  })
  return facilitator
}

/** The sale's payment row, written before settling; the reason to refuse when it cannot be. */
async function recordSale(
  client: RuntimeClient,
  payload: PaymentPayload,
  requirements: PaymentRequirements,
): Promise<string | undefined> {
  const authorization = (payload.payload as { authorization?: Authorization }).authorization
  if (!authorization) return 'only EIP-3009 authorizations are settled here'
  const agent = await client.agents.bySafe(requirements.payTo)
  if (!agent?.chainAgentId) return `${requirements.payTo} is not an agent hosted here`
  const { created } = await insertPayment(client.db, {
    idempotencyKey: saleKey(requirements.asset, authorization.from, authorization.nonce),
    kind: 'x402',
    fromAgentId: null,
    fromAddress: authorization.from,
    toChainAgentId: agent.chainAgentId,
    toAgentId: agent.id,
    toAddress: requirements.payTo,
    token: requirements.asset,
    amount: authorization.value,
    resource: payload.resource?.url ?? null,
  })
  return created ? undefined : 'this authorization was presented before'
}

/**
 * The facilitator's chain access: reads through the runtime's public client, and the one write the
 * `exact` scheme makes (`transferWithAuthorization`) recorded as an `x402Settle` intent and sent by a
 * relayer, like every other transaction of the runtime.
 */
function outboxSigner(client: RuntimeClient): FacilitatorEvmSigner {
  const { publicClient } = client.chain
  return {
    getAddresses: () => client.outbox.relayers.map((r) => r.address),
    readContract: (args) =>
      publicClient.readContract(args as Parameters<typeof publicClient.readContract>[0]),
    verifyTypedData: (args) =>
      publicClient.verifyTypedData(args as Parameters<typeof publicClient.verifyTypedData>[0]),
    async writeContract(args) {
      if (args.functionName !== 'transferWithAuthorization')
        throw new InternalError(`The facilitator settles EIP-3009 transfers only, not ${args.functionName}.`)
      const [from, , , , , nonce] = args.args as [Address, Address, bigint, bigint, bigint, Hex]
      const key = saleKey(args.address, from, nonce)
      const payment = await getPaymentByKey(client.db, key)
      if (!payment) throw new InternalError(`The sale ${key} was not recorded before settling.`)
      const call = encodeFunctionData({
        abi: args.abi as Abi,
        functionName: args.functionName,
        args: args.args,
      })
      const payload: X402SettlePayload = {
        token: args.address,
        data: args.dataSuffix ? concat([call, args.dataSuffix]) : call,
        payer: from,
        paymentId: payment.id,
      }
      const { intent } = await recordIntent(client, client.db, {
        idempotencyKey: `x402Settle:${key}`,
        kind: 'x402Settle',
        agentId: payment.toAgentId,
        payload,
      })
      const outcome = await sendRecorded(client, intent)
      const txHash = outcome.status === 'confirmed' ? outcome.receipt.transactionHash : outcome.intent.txHash
      if (!txHash)
        throw new InternalError('The settlement is recorded but not yet sent; the chain does not answer.')
      return txHash as Hex
    },
    sendTransaction: async () => {
      throw new InternalError('The facilitator deploys no wallets (ERC-6492 payers are not accepted).')
    },
    waitForTransactionReceipt: ({ hash }) => publicClient.waitForTransactionReceipt({ hash }),
    getCode: ({ address }) => publicClient.getCode({ address }),
  }
}

export type SaleFacilitator = ReturnType<typeof createSaleFacilitator>
