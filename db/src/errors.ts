/**
 * Agora's one error tree. Every package throws a subclass of `BaseError` (this is the lowest
 * package, so the root lives here): a sentence for people (`shortMessage`), a stable `code` for
 * programs, optional `details`, structured `meta`, and the foreign error it wraps as `cause`.
 * `ErrorCode` lists every code the packages throw, so a map from code to anything (the API's HTTP
 * statuses) cannot compile while a code is missing from it.
 */
export type ErrorCode =
  | ValidationErrorCode
  | 'NOT_FOUND'
  | ConflictErrorCode
  | AuthErrorCode
  | StorageErrorCode
  | ConfigErrorCode
  // The runtime's own kinds (classes in @agora/runtime).
  | 'POLICY_REFUSED'
  | 'OWNER_SIGNATURE_REQUIRED'
  | 'QUOTA_EXCEEDED'
  | 'CONTRACT_REVERTED'
  | 'CHAIN_UNAVAILABLE'
  | 'AGENT_ELSEWHERE'
  | 'TRANSACTION_FAILED'
  | 'INFERENCE_FAILED'
  | 'INTERNAL'

/** The caller sent something malformed. */
export type ValidationErrorCode = 'INVALID_ARGUMENT' | 'INVALID_INPUT' | 'INVALID_DEFINITION'
/** Sign-in nonces and permissions. */
export type AuthErrorCode = 'NONCE_NOT_FOUND' | 'NONCE_USED' | 'NONCE_EXPIRED' | 'FORBIDDEN'
type ConfigErrorCode = 'INVALID_CONFIG'

export type BaseErrorParameters<code extends string = ErrorCode> = {
  code: code
  details?: string
  cause?: unknown
  /** Extra structured facts (field paths, ids), for APIs and logs. */
  meta?: Record<string, unknown>
}

/**
 * The root of every error Agora throws.
 *
 * @example
 * try {
 *   await runtime.pay(agentId, { to: '7', amount: '2.5' })
 * } catch (error) {
 *   if (error instanceof BaseError && error.code === 'POLICY_REFUSED') console.log(error.shortMessage)
 * }
 */
export class BaseError<code extends string = ErrorCode> extends Error {
  override name = 'AgoraError'
  readonly code: code
  readonly shortMessage: string
  readonly details: string | undefined
  readonly meta: Record<string, unknown> | undefined

  constructor(shortMessage: string, parameters: BaseErrorParameters<code>) {
    const { code, details, cause, meta } = parameters
    super(details ? `${shortMessage}\n\nDetails: ${details}` : shortMessage, { cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
    this.meta = meta
  }

  /**
   * Follows the chain of causes: without `fn`, to the innermost one; with it, to the first error
   * (this one included) for which `fn` holds, or null.
   */
  walk(fn?: (error: unknown) => boolean): unknown {
    return walk(this, fn)
  }
}

function walk(error: unknown, fn?: (error: unknown) => boolean): unknown {
  if (fn?.(error)) return error
  const cause = error && typeof error === 'object' ? (error as { cause?: unknown }).cause : undefined
  if (cause !== undefined) return walk(cause, fn)
  return fn ? null : error
}

type SubclassParameters<code extends ErrorCode> = Omit<BaseErrorParameters<code>, 'code'> & { code?: code }

/** The caller sent something malformed: a bad amount, address, schema or definition. */
export class ValidationError extends BaseError<ValidationErrorCode> {
  override name = 'ValidationError'
  constructor(shortMessage: string, parameters: SubclassParameters<ValidationErrorCode> = {}) {
    super(shortMessage, { ...parameters, code: parameters.code ?? 'INVALID_ARGUMENT' })
  }
}

/** What was asked for does not exist (or is not visible to the caller). */
export class NotFoundError extends BaseError<'NOT_FOUND'> {
  override name = 'NotFoundError'
  constructor(shortMessage: string, parameters: SubclassParameters<'NOT_FOUND'> = {}) {
    super(shortMessage, { ...parameters, code: 'NOT_FOUND' })
  }
}

export type ConflictErrorCode =
  | 'CONFLICT'
  | 'IDEMPOTENCY_CONFLICT'
  | 'INVALID_TRANSITION'
  | 'NAME_TAKEN'
  | 'AGENT_LAUNCHING'
  | 'AGENT_PAUSED'
  | 'AGENT_RETIRED'
  | 'NO_MODEL'
  | 'DEFINED_IN_CODE'

/** A well-formed request the current state refuses: a name taken, a paused agent, a reused key. */
export class ConflictError extends BaseError<ConflictErrorCode> {
  override name = 'ConflictError'
  constructor(shortMessage: string, parameters: SubclassParameters<ConflictErrorCode> = {}) {
    super(shortMessage, { ...parameters, code: parameters.code ?? 'CONFLICT' })
  }
}

/** Sign-in nonces that are unknown, used or expired; an action only someone else may take. */
export class AuthError extends BaseError<AuthErrorCode> {
  override name = 'AuthError'
}

export type StorageErrorCode =
  | 'DB_INVALID_URL'
  | 'DB_UNREACHABLE'
  | 'DB_AUTH_FAILED'
  | 'DB_NOT_FOUND'
  | 'DB_CONNECT_FAILED'
  | 'DB_OPEN_FAILED'
  | 'DB_MIGRATION_FAILED'
  | 'STORAGE_FAILED'

/** The database could not be opened, reached, migrated or written. */
export class StorageError extends BaseError<StorageErrorCode> {
  override name = 'StorageError'
}

/** The configuration is wrong: an env variable, a manifest, a key. */
export class ConfigError extends BaseError<ConfigErrorCode> {
  override name = 'ConfigError'
  constructor(shortMessage: string, parameters: SubclassParameters<ConfigErrorCode> = {}) {
    super(shortMessage, { ...parameters, code: 'INVALID_CONFIG' })
  }
}

/** A broken invariant: a bug, never the caller's fault. */
export class InternalError extends BaseError<'INTERNAL'> {
  override name = 'InternalError'
  constructor(shortMessage: string, parameters: SubclassParameters<'INTERNAL'> = {}) {
    super(shortMessage, { ...parameters, code: 'INTERNAL' })
  }
}
