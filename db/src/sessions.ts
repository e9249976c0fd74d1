import { createHash, randomBytes } from 'node:crypto'
import { and, eq, gt, isNull } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { normalizeAddress } from './normalize.ts'
import { type Session, sessions } from './schema.ts'

export type CreateSessionParameters = {
  /** The address that signed in. */
  address: string
  /** 7 days by default. */
  ttlMs?: number
  now?: Date
}

/**
 * Opens a session and returns its bearer token. Only the token's SHA-256 is stored, so the token
 * cannot be read back: hand it to the client now.
 *
 * @example
 * const { token } = await createSession(db, { address })
 */
export async function createSession(
  db: Db,
  parameters: CreateSessionParameters,
): Promise<{ token: string; session: Session }> {
  const now = parameters.now ?? new Date()
  const token = randomBytes(32).toString('base64url')
  const [session] = await db
    .insert(sessions)
    .values({
      tokenHash: hashToken(token),
      address: normalizeAddress(parameters.address, 'address'),
      expiresAt: new Date(now.getTime() + (parameters.ttlMs ?? 7 * 24 * 3_600_000)),
    })
    .returning()
  return { token, session: session! }
}

/**
 * The live session of a bearer token; undefined when unknown, expired or revoked.
 *
 * @example
 * await getSession(db, bearer)
 */
export async function getSession(
  db: Db,
  token: string,
  parameters: { now?: Date } = {},
): Promise<Session | undefined> {
  const [session] = await db
    .select()
    .from(sessions)
    .where(
      and(
        eq(sessions.tokenHash, hashToken(token)),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, parameters.now ?? new Date()),
      ),
    )
  return session
}

/**
 * Ends a session (sign-out). Returns false when the token was unknown or already revoked.
 *
 * @example
 * await revokeSession(db, bearer)
 */
export async function revokeSession(db: Db, token: string): Promise<boolean> {
  const revoked = await db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(sessions.tokenHash, hashToken(token)), isNull(sessions.revokedAt)))
    .returning({ tokenHash: sessions.tokenHash })
  return revoked.length > 0
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
