import {
  ContractFunctionRevertedError,
  HttpRequestError,
  LimitExceededRpcError,
  ResourceUnavailableRpcError,
  TimeoutError,
  BaseError as ViemBaseError,
} from 'viem'

/** Stable codes: what a caller can branch on. */
export type ErrorCode =
  | 'INVALID_DEFINITION'
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'POLICY_REFUSED'
  | 'CONTRACT_REVERTED'
  | 'CHAIN_UNAVAILABLE'
  | 'TRANSACTION_FAILED'
  | 'INFERENCE_FAILED'
  | 'STORAGE_FAILED'
  | 'INTERNAL'

export type BaseErrorParameters = {
  code: ErrorCode
  details?: string
  cause?: unknown
  /** Extra structured facts (field paths, ids), for APIs and logs. */
  meta?: Record<string, unknown>
}

/**
 * The one error type the runtime throws. `shortMessage` is a sentence for people; `code` is stable
 * for programs; `cause` keeps the foreign error it wraps.
 *
 * @example
 * throw new BaseError('Agent "summarizer" is paused.', { code: 'CONFLICT' })
 */
export class BaseError extends Error {
  override name = 'AgoraError'
  readonly code: ErrorCode
  readonly shortMessage: string
  readonly details: string | undefined
  readonly meta: Record<string, unknown> | undefined

  constructor(shortMessage: string, parameters: BaseErrorParameters) {
    const { code, details, cause, meta } = parameters
    super(details ? `${shortMessage}\n\nDetails: ${details}` : shortMessage, { cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details
    this.meta = meta
  }
}

/** A spending policy refused a money-moving action before anything was signed. */
export class PolicyError extends BaseError {
  override name = 'PolicyError'
  constructor(shortMessage: string, meta?: Record<string, unknown>) {
    super(shortMessage, { code: 'POLICY_REFUSED', meta })
  }
}

/**
 * Wraps an error from viem (RPC, contract call) once, where it enters the runtime: Solidity custom
 * errors become a readable sentence (`EconomyNotProvider(jobId: 7, caller: 0x…)`).
 */
export function wrapChainError(error: unknown, action: string): BaseError {
  if (error instanceof BaseError) return error
  if (error instanceof ViemBaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
    if (reverted instanceof ContractFunctionRevertedError) {
      const name = reverted.data?.errorName ?? reverted.reason ?? 'unknown reason'
      const args = reverted.data?.args?.map((a) => String(a)).join(', ') ?? ''
      return new BaseError(`${action} was refused by the contract: ${name}(${args})`, {
        code: 'CONTRACT_REVERTED',
        cause: error,
        meta: { errorName: name, args: reverted.data?.args?.map((a) => String(a)) },
      })
    }
    const transient = isTransientChainError(error)
    return new BaseError(`${action} failed: ${error.shortMessage}`, {
      code: transient ? 'CHAIN_UNAVAILABLE' : 'TRANSACTION_FAILED',
      cause: error,
    })
  }
  const message = error instanceof Error ? error.message : String(error)
  return new BaseError(`${action} failed: ${message}`, { code: 'INTERNAL', cause: error })
}

/**
 * Errors worth retrying: the node could not be reached, timed out or was busy; never a refusal.
 * Judged by error type and HTTP status, not by searching the text (revert data is hex full of digits).
 */
export function isTransientChainError(error: unknown): boolean {
  if (error instanceof ViemBaseError) {
    const found = error.walk(
      (e) =>
        e instanceof HttpRequestError ||
        e instanceof TimeoutError ||
        e instanceof LimitExceededRpcError ||
        e instanceof ResourceUnavailableRpcError,
    )
    if (found instanceof HttpRequestError)
      return found.status === undefined || [429, 502, 503, 504].includes(found.status)
    return found !== null && found !== undefined
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|fetch failed)\b/i.test(text)
}
