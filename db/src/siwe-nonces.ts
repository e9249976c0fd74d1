import { randomBytes } from 'node:crypto'
import { and, eq, gt, inArray, isNotNull, isNull, lt, or } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { AuthError } from './errors.ts'
import { siweNonces } from './schema.ts'

export type IssueSiweNonceParameters = {
  /** How long the nonce can be used; 10 minutes by default. */
  ttlMs?: number
  now?: Date
  /**
   * The most used or expired nonces deleted along with this issue (default 100; 0 turns it off).
   * Anyone may ask for nonces: without this, the ones never used would pile up for good.
   */
  prune?: number
}

/**
 * Issues a fresh nonce for a Sign-In with Ethereum message (32 alphanumeric characters), and
 * deletes up to `prune` dead ones (used or expired): each issue clears more than it adds, so the
 * table stays as small as the nonces live at once.
 *
 * @example
 * const { nonce } = await issueSiweNonce(db)
 */
export async function issueSiweNonce(
  db: Db,
  parameters: IssueSiweNonceParameters = {},
): Promise<{ nonce: string; expiresAt: Date }> {
  const now = parameters.now ?? new Date()
  const values = {
    nonce: randomBytes(16).toString('hex'),
    expiresAt: new Date(now.getTime() + (parameters.ttlMs ?? 10 * 60_000)),
  }
  const prune = parameters.prune ?? 100
  if (prune > 0) await pruneSiweNonces(db, { now, limit: prune })
  await db.insert(siweNonces).values(values)
  return values
}

/**
 * Uses up a nonce, atomically: of any number of concurrent calls with one nonce, exactly one
 * succeeds. Throws `AuthError` with code `NONCE_NOT_FOUND`, `NONCE_USED` or `NONCE_EXPIRED` otherwise.
 *
 * @example
 * await consumeSiweNonce(db, message.nonce)
 */
export async function consumeSiweNonce(
  db: Db,
  nonce: string,
  parameters: { now?: Date } = {},
): Promise<void> {
  const now = parameters.now ?? new Date()
  const [used] = await db
    .update(siweNonces)
    .set({ usedAt: now })
    .where(and(eq(siweNonces.nonce, nonce), isNull(siweNonces.usedAt), gt(siweNonces.expiresAt, now)))
    .returning({ nonce: siweNonces.nonce })
  if (used) return
  const [row] = await db.select().from(siweNonces).where(eq(siweNonces.nonce, nonce))
  if (!row) throw new AuthError('Unknown sign-in nonce.', { code: 'NONCE_NOT_FOUND' })
  if (row.usedAt) throw new AuthError('Sign-in nonce already used.', { code: 'NONCE_USED' })
  throw new AuthError('Sign-in nonce expired.', { code: 'NONCE_EXPIRED' })
}

/**
 * Deletes nonces that are used or expired, at most `limit` of them when given. Returns the count.
 *
 * @example
 * await pruneSiweNonces(db, { limit: 1_000 })
 */
export async function pruneSiweNonces(
  db: Db,
  parameters: { now?: Date; limit?: number } = {},
): Promise<number> {
  const dead = or(isNotNull(siweNonces.usedAt), lt(siweNonces.expiresAt, parameters.now ?? new Date()))
  const where =
    parameters.limit === undefined
      ? dead
      : inArray(
          siweNonces.nonce,
          db.select({ nonce: siweNonces.nonce }).from(siweNonces).where(dead).limit(parameters.limit),
        )
  const deleted = await db.delete(siweNonces).where(where).returning({ nonce: siweNonces.nonce })
  return deleted.length
}
