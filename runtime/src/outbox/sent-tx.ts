import { type Intent, txVersionsOf } from '@agora/db'
import { type Address, getAddress, type Hex, parseTransaction } from 'viem'

/**
 * A signed relayer transaction the outbox watches: every version it has had (a replacement keeps
 * the nonce and the call, with higher fees), oldest first. Any version may be the one that lands.
 */
export type SentTx = {
  relayer: Address
  nonce: number
  versions: { hash: Hex; rawTx: Hex }[]
  /** When it was last broadcast or repaired: it counts as stuck `stuckAfterMs` after this. */
  since: number
}

/**
 * The transaction a sent intent (from the outbox's rows) is carried by. Its nonce is read from the
 * signed bytes, so an intent riding in a batch (no nonce of its own) has it too.
 *
 * @example
 * const receipt = await watchTransaction(outbox, sentTxOf(intent))
 */
export function sentTxOf(intent: Intent): SentTx {
  const versions = txVersionsOf(intent).map((v) => ({ hash: v.txHash as Hex, rawTx: v.rawTx as Hex }))
  const latest = versions.at(-1)
  if (!latest) throw new Error(`Intent ${intent.id} is ${intent.status} but holds no signed transaction.`)
  return {
    relayer: getAddress(intent.signer),
    nonce: intent.nonce ?? parseTransaction(latest.rawTx).nonce ?? 0,
    versions,
    since: intent.sentAt?.getTime() ?? Date.now(),
  }
}
