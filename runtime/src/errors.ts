import { BaseError, type BaseErrorParameters, type ErrorCode, InternalError } from '@agora/db'
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
      return found.status === undefined || [429, 502, 503, 504].includes(found.status)
    return found !== null && found !== undefined
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|fetch failed)\b/i.test(text)
}

/** The error's stable code, if it is one of ours. */
export function errorCodeOf(error: unknown): ErrorCode | undefined {
  return error instanceof BaseError ? (error.code as ErrorCode) : undefined
}
