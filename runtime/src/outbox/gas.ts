import type { IntentKind } from '@agora/db'
import type { Address } from 'viem'
import { TransactionFailedError } from '../errors.ts'
import type { Call } from './intent-handler.ts'
import type { Outbox } from './outbox.ts'

/**
 * The most gas one call of each kind may be given, a few times what it uses (a payment about 80k,
 * a launch about 450k; a settlement's payout to a contract is bounded by the economy). Whatever a
 * counterparty's code does, no transaction asks for more, so none can outgrow a block and none
 * costs the relayer more than this. A batch may have this much per call. `createRuntime({ gasCaps })`
 * raises or lowers them (for tokens whose transfers cost more, say).
 */
export const gasCaps: Record<IntentKind, bigint> = {
  launch: 2_000_000n,
  approve: 300_000n,
  withdraw: 300_000n,
  pay: 400_000n,
  createJob: 500_000n,
  submitJob: 300_000n,
  completeJob: 500_000n,
  rejectJob: 500_000n,
  declineJob: 500_000n,
  refundExpired: 400_000n,
  // transferWithAuthorization: a signature check (ERC-1271 for a Safe payer) and a transfer.
  x402Settle: 300_000n,
  // A token transfer into the agent's hot wallet, checked by the agent module.
  topUp: 300_000n,
  // The owners' own Safe transaction (a policy change or a move onto the module: a few storage writes).
  ownerTransaction: 1_000_000n,
}

/**
 * The gas limit for a call, after simulating it against the pending state (a revert is refused here,
 * before any nonce is spent). The first call of a kind is estimated; later ones are simulated and
 * given twice the most that kind has used in a transaction that succeeded, plus headroom (an estimate
 * runs at gas price 0, where a counterparty's code may behave unlike in the real transaction). Never
 * above the kind's cap (times `calls`, a batch's count) nor the block's gas limit.
 */
export async function gasLimit(
  outbox: Outbox,
  kind: IntentKind,
  from: Address,
  call: Call,
  calls = 1,
): Promise<bigint> {
  const request = {
    account: from,
    to: call.to,
    data: call.data,
    value: call.value,
    blockTag: 'pending' as const,
  }
  const block = await blockGasLimit(outbox)
  const perCall = outbox.gasCaps[kind]
  const cap = perCall * BigInt(calls) < block ? perCall * BigInt(calls) : block
  const used = outbox.gasUsed.get(kind)
  let limit: bigint
  if (used === undefined) {
    const estimate = await outbox.publicClient.estimateGas(request)
    if (estimate > cap)
      throw new TransactionFailedError(
        `A ${kind} transaction would need ${estimate} gas, more than its cap of ${cap}; it was not sent.`,
        { meta: { kind, estimate: String(estimate), cap: String(cap) } },
      )
    limit = estimate * 2n + 100_000n
  } else {
    await outbox.publicClient.call(request)
    limit = used * 2n * BigInt(calls) + 100_000n
  }
  return limit < cap ? limit : cap
}

/**
 * Learns what one call of `kind` uses, from a transaction that succeeded and carried only that call
 * (a batch's gas is many calls'; a revert's says nothing about what the call needs). Never above the
 * kind's cap, so no counterparty can push later limits up without bound.
 */
export function learnGas(outbox: Outbox, kind: IntentKind, gasUsed: bigint) {
  const capped = gasUsed < outbox.gasCaps[kind] ? gasUsed : outbox.gasCaps[kind]
  if (capped > (outbox.gasUsed.get(kind) ?? 0n)) outbox.gasUsed.set(kind, capped)
}

/** The block gas limit, read once (and again after the node refused a transaction for it). */
function blockGasLimit(outbox: Outbox): Promise<bigint> {
  if (!outbox.blockGasLimit) {
    const read = outbox.publicClient.getBlock().then((block) => block.gasLimit)
    outbox.blockGasLimit = read
    read.catch(() => {
      if (outbox.blockGasLimit === read) outbox.blockGasLimit = undefined
    })
  }
  return outbox.blockGasLimit
}

/** The chain's fees per gas, read at most every two seconds and shared by every sender meanwhile. */
export function feesPerGas(outbox: Outbox) {
  const now = Date.now()
  if (!outbox.fees || now - outbox.fees.at > 2_000) {
    const value = outbox.publicClient.estimateFeesPerGas()
    outbox.fees = { at: now, value }
    value.catch(() => {
      outbox.fees = undefined
    })
  }
  return outbox.fees.value
}
