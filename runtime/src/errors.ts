import { BaseError, type BaseErrorParameters, type ErrorCode, InternalError, StorageError } from '@agora/db'
import {
  ContractFunctionRevertedError,
  HttpRequestError,
  LimitExceededRpcError,
  ResourceUnavailableRpcError,
  TimeoutError,
  BaseError as ViemBaseError,
} from 'viem'

type Options = Omit<BaseErrorParameters, 'code'>

/** A spending policy refused a money-moving action before anything was signed. */
export class PolicyError extends BaseError<'POLICY_REFUSED'> {
  override name = 'PolicyError'
  constructor(shortMessage: string, meta?: Record<string, unknown>) {
    super(shortMessage, { code: 'POLICY_REFUSED', meta })
  }
}

/**
 * A change the agent's owners must sign first (a Safe transaction of theirs): nothing changed yet.
 * `request` is the transaction to sign; the same call again with their signatures makes the change.
 */
export class OwnerSignatureRequiredError extends BaseError<'OWNER_SIGNATURE_REQUIRED'> {
  override name = 'OwnerSignatureRequiredError'
  constructor(
    shortMessage: string,
    readonly request: Record<string, unknown>,
  ) {
    super(shortMessage, { code: 'OWNER_SIGNATURE_REQUIRED', meta: { request } })
  }
}

/** What a contract said when it refused a call: its custom error's name and arguments. */
export type ContractErrorData = { name: string; args: string[] }

/** A contract refused a call (a Solidity custom error, a require, or a failed inner call). */
export class ContractRevertedError extends BaseError<'CONTRACT_REVERTED'> {
  override name = 'ContractRevertedError'
  readonly contractError: ContractErrorData
  constructor(action: string, contractError: ContractErrorData, options: Options = {}) {
    super(`${action} was refused by the contract: ${contractError.name}(${contractError.args.join(', ')})`, {
      ...options,
      code: 'CONTRACT_REVERTED',
      meta: { ...options.meta, contractError },
    })
    this.contractError = contractError
  }
}

/** The chain's RPC could not be reached, timed out or was busy: worth retrying later. */
export class ChainUnavailableError extends BaseError<'CHAIN_UNAVAILABLE'> {
  override name = 'ChainUnavailableError'
  constructor(shortMessage: string, options: Options = {}) {
    super(shortMessage, { ...options, code: 'CHAIN_UNAVAILABLE' })
  }
}

/**
 * The agent is served by another runtime process sharing the database (its shard's holder), which
 * alone acts for it; `meta.url` is where that process is reached, when one holds the shard now.
 */
export class AgentElsewhereError extends BaseError<'AGENT_ELSEWHERE'> {
  override name = 'AgentElsewhereError'
  constructor(shortMessage: string, options: Options = {}) {
    super(shortMessage, { ...options, code: 'AGENT_ELSEWHERE' })
  }
}

/** A transaction was sent and reverted, or the node refused it for a reason that is not transient. */
export class TransactionFailedError extends BaseError<'TRANSACTION_FAILED'> {
  override name = 'TransactionFailedError'
  constructor(shortMessage: string, options: Options = {}) {
    super(shortMessage, { ...options, code: 'TRANSACTION_FAILED' })
  }
}

/** A model backend failed: unreachable, timed out, or answered with something unusable. */
export class InferenceError extends BaseError<'INFERENCE_FAILED'> {
  override name = 'InferenceError'
  constructor(shortMessage: string, options: Options = {}) {
    super(shortMessage, { ...options, code: 'INFERENCE_FAILED' })
  }
}

/**
 * Wraps an error from viem (RPC, contract call) once, where it enters the runtime: Solidity custom
 * errors become a `ContractRevertedError` (`EconomyNotProvider(7, 0x…)`), transient failures a
 * `ChainUnavailableError`.
 */
export function wrapChainError(error: unknown, action: string): BaseError {
  if (error instanceof BaseError) return error as BaseError
  if (error instanceof ViemBaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
    if (reverted instanceof ContractFunctionRevertedError) {
      const name = reverted.data?.errorName ?? reverted.reason ?? 'unknown reason'
      const args = reverted.data?.args?.map((a) => String(a)) ?? []
      return new ContractRevertedError(action, { name, args }, { cause: error })
    }
    if (isTransientChainError(error))
      return new ChainUnavailableError(`${action} failed: ${error.shortMessage}`, { cause: error })
    return new TransactionFailedError(`${action} failed: ${error.shortMessage}`, { cause: error })
  }
  if (isTransientChainError(error)) {
    return new ChainUnavailableError(`${action} failed: the chain does not answer.`, { cause: error })
  }
  const message = error instanceof Error ? error.message : String(error)
  return new InternalError(`${action} failed: ${message}`, { cause: error })
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
      // No answer, or the server (or a proxy before it) failing: not the node refusing the request.
      return found.status === undefined || found.status === 408 || found.status === 429 || found.status >= 500
    return found !== null && found !== undefined
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|fetch failed)\b/i.test(text)
}

/**
 * A foreign error that escaped an action, wrapped where it leaves the runtime: a viem error (an RPC
 * that timed out, say) by `wrapChainError`, a lost database connection as a `StorageError`
 * (`DB_UNREACHABLE`, 503: worth retrying). Ours, and anything else, pass through unchanged.
 */
export function toRuntimeError(error: unknown, action: string): unknown {
  if (error instanceof BaseError) return error
  if (error instanceof ViemBaseError) return wrapChainError(error, action)
  if (isLostConnection(error))
    return new StorageError(`${action} failed: the database connection was lost.`, {
      code: 'DB_UNREACHABLE',
      cause: error,
    })
  if (isTransientChainError(error)) return wrapChainError(error, action)
  return error
}

/** Codes (Postgres SQLSTATE, postgres.js, node) of a connection that went away or cannot be made. */
const lostConnectionCodes =
  /^(57P0[1-3]|08\d{3}|53300|CONNECT_TIMEOUT|CONNECTION_(CLOSED|ENDED|DESTROYED)|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE)$/

/** Postgres (or PGlite) went away under a query: terminated, restarting, unreachable or closed. */
function isLostConnection(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && lostConnectionCodes.test(code)) return true
    if (e instanceof Error && /PGlite is closed|Connection terminated|connection .*closed/i.test(e.message))
      return true
  }
  return false
}

/**
 * Wraps every method of `target` (and of the handles `nested` methods return or resolve with) so that what they
 * throw has passed `toRuntimeError`: callers, the HTTP API among them, only ever see the runtime's
 * errors for a chain or a database that failed under them.
 */
export function withErrorBoundary<T extends object>(target: T, nested: readonly string[] = []): T {
  const wrapped: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(target)) {
    if (typeof value !== 'function') {
      wrapped[name] = value
      continue
    }
    wrapped[name] = (...args: unknown[]) => {
      let result: unknown
      try {
        result = value.apply(target, args)
      } catch (error) {
        throw toRuntimeError(error, name)
      }
      const handle = (value: unknown) =>
        nested.includes(name) && value && typeof value === 'object' ? withErrorBoundary(value, nested) : value
      if (result instanceof Promise)
        return result.then(handle, (error: unknown) => {
          throw toRuntimeError(error, name)
        })
      return handle(result)
    }
  }
  return wrapped as T
}

/** The error's stable code, if it is one of ours. */
export function errorCodeOf(error: unknown): ErrorCode | undefined {
  return error instanceof BaseError ? (error.code as ErrorCode) : undefined
}
