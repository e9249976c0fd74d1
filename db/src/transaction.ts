import type { Db, Transaction } from './create-db.ts'

/**
 * Runs `fn` in one database transaction: everything it writes commits together or not at all.
 * Store functions accept the transaction in place of `db`, so an intent and the domain row it
 * serves are recorded atomically. Called on a transaction, it opens a savepoint.
 *
 * @example
 * await transaction(db, async (tx) => {
 *   const { intent, created } = await recordIntent(tx, { idempotencyKey, kind: 'pay', signer, payload })
 *   if (created) await insertPayment(tx, { idempotencyKey, ...payment })
 * })
 */
export function transaction<T>(db: Db, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  return db.transaction(fn)
}
