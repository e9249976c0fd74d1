import type { Address } from 'viem'
import type { Call } from './intent-handler.ts'
import type { Outbox } from './outbox.ts'

/**
 * The gas limit for a call, after simulating it against the pending state (a revert is refused here,
 * before a nonce is spent). The first call of a kind is estimated; later ones reuse twice the most
 * gas that kind has used, plus headroom: one simulation instead of an estimate's many. `calls`: how
 * many calls of the kind `call` carries (a batch). Unused gas costs nothing.
 */
export async function gasLimit(
  outbox: Outbox,
  kind: string,
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
  const used = outbox.gasUsed.get(kind)
  if (used === undefined) return ((await outbox.publicClient.estimateGas(request)) * 6n) / 5n + 10_000n
  await outbox.publicClient.call(request)
  return used * 2n * BigInt(calls) + 100_000n
}

/** Learns what one call of `kind` uses from a single send's receipt (a batch's gas is many calls'). */
export function learnGas(outbox: Outbox, kind: string, gasUsed: bigint) {
  if (gasUsed > (outbox.gasUsed.get(kind) ?? 0n)) outbox.gasUsed.set(kind, gasUsed)
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
