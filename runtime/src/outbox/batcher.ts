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

/**
 * Group commit with a result per item: items given in the same tick go to `write` together, which
 * returns one result per item, in order. When a group fails, each of its items is written again on
 * its own, so only the item at fault fails.
 *
 * @example
 * const recordPayment = createGroupWriter((rows: Row[]) => transaction(db, (tx) => insertPayments(tx, rows)))
 * const { payment } = await recordPayment(row)
 */
export function createGroupWriter<T, R>(write: (items: T[]) => Promise<R[]>): (item: T) => Promise<R> {
  const group = createBatcher(async (items: T[]) => {
    try {
      return { items, results: await write(items) }
    } catch (error) {
      if (items.length === 1) throw error
      return { items, results: undefined }
    }
  })
  return async (item) => {
    const { items, results } = await group(item)
    if (results) return results[items.indexOf(item)] as R
    const [result] = await write([item])
    return result as R
  }
}
