/**
 * Group commit: calls made in the same tick are handed to `flush` together, once, and every caller
 * gets that one result. Many concurrent writers then cost one database round trip.
 *
 * @example
 * const markSent = createBatcher((items: Sent[]) => markIntentsSent(db, items))
 * await markSent({ id, txHash, nonce, rawTx })
 */
export function createBatcher<T, R>(flush: (items: T[]) => Promise<R>): (item: T) => Promise<R> {
  let pending: { items: T[]; result: Promise<R> } | undefined
  return (item) => {
    if (!pending) {
      const batch: { items: T[]; result?: Promise<R> } = { items: [] }
      batch.result = new Promise<R>((resolve, reject) =>
        setImmediate(() => {
          pending = undefined
          flush(batch.items).then(resolve, reject)
        }),
      )
      pending = batch as { items: T[]; result: Promise<R> }
    }
    pending.items.push(item)
    return pending.result
  }
}
