/**
 * Stand-in for the project's base error until the runtime defines one: a literal `name`, a stable
 * `code`, a one-line `shortMessage`, optional `details`, and the foreign error as `cause`.
 */
export class BaseError extends Error {
  override name = 'BaseError'
  readonly code: string
  readonly shortMessage: string
  readonly details: string | undefined

  constructor(shortMessage: string, options: { code: string; details?: string; cause?: unknown }) {
    const message = options.details ? `${shortMessage}\n\nDetails: ${options.details}` : shortMessage
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = options.code
    this.shortMessage = shortMessage
    this.details = options.details
  }
}

/** Stable codes of every error this package throws. */
export type DbErrorCode =
  | 'DB_INVALID_URL'
  | 'DB_UNREACHABLE'
  | 'DB_AUTH_FAILED'
  | 'DB_NOT_FOUND'
  | 'DB_CONNECT_FAILED'
  | 'DB_OPEN_FAILED'
  | 'DB_MIGRATION_FAILED'
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'IDEMPOTENCY_CONFLICT'
  | 'INVALID_TRANSITION'
  | 'NONCE_NOT_FOUND'
  | 'NONCE_USED'
  | 'NONCE_EXPIRED'

/**
 * Every failure of `@agora/db`, from opening the database to a refused state change.
 *
 * @example
 * try {
 *   await consumeSiweNonce(db, nonce)
 * } catch (error) {
 *   if (error instanceof DbError && error.code === 'NONCE_USED') return unauthorized()
 *   throw error
 * }
 */
export class DbError extends BaseError {
  override name = 'DbError' as const
  declare readonly code: DbErrorCode

  constructor(shortMessage: string, options: { code: DbErrorCode; details?: string; cause?: unknown }) {
    super(shortMessage, options)
  }
}
