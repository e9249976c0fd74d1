import { getHighestNonce, getLandedNonces } from '@agora/db'
import type { Address } from 'viem'
import type { Outbox } from './outbox.ts'
import type { SentTx } from './sent-tx.ts'

/**
 * A relayer's next nonce: what the node counts (its pool included), but never one the outbox already
 * gave a live intent (a transaction the node has lost, or a chain rolled back, still holds its
 * nonce: it is sent again with it). Read once, then counted here; call under the relayer's lock.
 */
export async function nextNonce(outbox: Outbox, relayer: Address): Promise<number> {
  let nonce = outbox.nonces.get(relayer)
  if (nonce === undefined) {
    const [pending, stored] = await Promise.all([
      outbox.publicClient.getTransactionCount({ address: relayer, blockTag: 'pending' }),
      getHighestNonce(outbox.db, relayer),
    ])
    nonce = stored === null ? pending : Math.max(pending, stored + 1)
    outbox.nonces.set(relayer, nonce)
  }
  return nonce
}

/** The highest nonce per relayer (lower-case) the runtime saw land, read from the outbox once. */
export async function landedNonces(outbox: Outbox): Promise<Map<string, number>> {
  outbox.landed ??= await getLandedNonces(outbox.db)
  return outbox.landed
}

/** Remembers that `tx` landed (reverted or not, its nonce is spent). */
export function noteLanded(outbox: Outbox, tx: SentTx) {
  const landed = outbox.landed
  if (!landed) return
  const key = tx.relayer.toLowerCase()
  if (tx.nonce > (landed.get(key) ?? -1)) landed.set(key, tx.nonce)
}
