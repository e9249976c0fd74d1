import {
  ConfigError,
  type Db,
  type Intent,
  type IntentKind,
  markIntentFailed,
  markIntentSent,
  markIntentsConfirmed,
  markIntentsSent,
  markIntentsUnsent,
} from '@agora/db'
import type { Address, Hex, LocalAccount, PublicClient, TransactionReceipt } from 'viem'
import { createBatcher } from './batcher.ts'
import { gasCaps } from './gas.ts'
import type { Call, SentIntent } from './intent-handler.ts'
import { createKeyedMutex, createMutex, type KeyedMutex, type Mutex } from './mutex.ts'
import type { SentTx } from './sent-tx.ts'

/**
 * A transaction as `send` hands it on: the call it carries, the signed transaction watched for it,
 * and the chain replays finished when the call was built (`finishedReplays`).
 */
export type Sent = { call: Call; tx: SentTx; batched: boolean; replays: number }

/** An intent waiting for its lane; `taken` once another's batch carries it, `sent` once that went out. */
export type Waiting = {
  intent: Intent
  taken?: boolean
  sent?: Sent
  /** The batch carrying it was recorded but failed to go out: it must not be sent again on its own. */
  error?: unknown
}

/** What recovery holds: lanes whose earlier transactions are being finished, and a chain replay. */
export type RecoveryState = {
  /** Lanes whose sent intents (from an earlier run or an outage) are not settled yet. */
  readonly lanes: Map<string, Promise<void>>
  /** Set while transactions a rolled-back chain lost are being put back. */
  replaying?: Promise<unknown>
  /**
   * How many such replays have begun: a call built before one began was built on a chain that had
   * lost transactions, so its refusal or revert says nothing about the call.
   */
  replays: number
  /** Set until the first pass after start has handed out every unfinished intent. */
  starting?: Promise<unknown>
}

export type CreateOutboxParameters = {
  publicClient: PublicClient
  chainId: number
  /** The outbox: intents are rows in this database. */
  db: Db
  /** Accounts that send and pay gas for every transaction (relayers); one nonce sequence each. */
  relayers: readonly LocalAccount[]
  log?: (line: string) => void
  /** Receipt polling: first delay and cap, in milliseconds. */
  pollMs?: { first: number; max: number }
  /** The most queued intents of one lane sent in one transaction (kinds with `buildMany`); 1 turns it off. */
  maxBatch?: number
  /** The most gas one call of a kind may be given (defaults: `gasCaps`). */
  gasCaps?: Partial<Record<IntentKind, bigint>>
  /** A transaction not mined after this long is repaired: rebroadcast, or replaced with higher fees (default 30 s). */
  stuckAfterMs?: number
  /** How long a new transaction waits for recovery of its lane before it is refused as unavailable (default 5 s). */
  recoveryWaitMs?: number
}

/**
 * The outbox's state: relayers and their nonces, lanes, in-flight sends, learned gas, watched
 * transactions, recovery, and the batched writes that mark intents sent and confirmed. The functions
 * that use it are `recordIntent`, `sendIntent`, `recoverIntents` and `repairRollback`.
 */
export type Outbox = {
  readonly db: Db
  readonly publicClient: PublicClient
  readonly chainId: number
  readonly relayers: readonly LocalAccount[]
  readonly relayerLocks: Map<Address, Mutex>
  readonly laneLocks: KeyedMutex
  /** Next nonce per relayer, once read from the chain and the outbox. */
  readonly nonces: Map<Address, number>
  /** Highest nonce per relayer (lower-case) the runtime saw land; read from the outbox at first use. */
  landed?: Map<string, number>
  /** The most gas one call of a kind has used in a transaction that succeeded, never above its cap. */
  readonly gasUsed: Map<string, bigint>
  readonly gasCaps: Record<IntentKind, bigint>
  blockGasLimit?: Promise<bigint>
  readonly inFlight: Map<string, Promise<SentIntent>>
  /** Intents waiting for their lane, in order: the first to get it takes the others of its kind along. */
  readonly waiting: Map<string, Waiting[]>
  /** One watch per transaction (by its first hash), however many intents it carries. */
  readonly watches: Map<Hex, Promise<TransactionReceipt>>
  readonly recovery: RecoveryState
  readonly maxBatch: number
  readonly pollMs: { first: number; max: number }
  readonly stuckAfterMs: number
  readonly recoveryWaitMs: number
  fees?: { at: number; value: Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> }
  log(line: string): void
  markSent(id: number, sent: { txHash: string; nonce: number | null; rawTx: string }): Promise<void>
  markConfirmed(id: number, result: Record<string, unknown>): Promise<unknown>
  markFailed(id: number, error: string): Promise<unknown>
  /** Puts the intents a refused transaction carried back to pending (their bytes never left). */
  unsend(txHash: Hex): Promise<unknown>
  /** The relayer that sends a lane's transactions (the same one always, so its nonces stay in order). */
  relayerFor(lane: string): LocalAccount
}

/**
 * Every money movement is an intent in the outbox with an idempotency key before it is signed; the
 * signed bytes are stored before they are broadcast, so a crash at any point is finished on restart
 * by rebroadcasting the very same transaction (never a second one).
 *
 * @example
 * const outbox = createOutbox({ publicClient, db, relayers })
 */
export function createOutbox(parameters: CreateOutboxParameters): Outbox {
  const { publicClient, db, relayers, log = () => {} } = parameters
  const maxBatch = parameters.maxBatch ?? 16
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1)
    throw new ConfigError(`maxBatch must be a whole number from 1 up, not ${maxBatch}.`)
  if (relayers.length === 0) throw new ConfigError('At least one relayer account is needed.')
  // Concurrent senders share their outbox writes (group commit): one statement for many intents.
  const sentBatch = createBatcher(
    (items: { id: number; txHash: string; nonce: number | null; rawTx: string }[]) =>
      markIntentsSent(db, items),
  )
  const confirmedBatch = createBatcher((items: { id: number; result: Record<string, unknown> }[]) =>
    markIntentsConfirmed(db, items),
  )
  return {
    db,
    publicClient,
    chainId: parameters.chainId,
    relayers,
    relayerLocks: new Map(relayers.map((r) => [r.address, createMutex()])),
    laneLocks: createKeyedMutex(),
    nonces: new Map(),
    gasUsed: new Map(),
    gasCaps: { ...gasCaps, ...parameters.gasCaps },
    inFlight: new Map(),
    waiting: new Map(),
    watches: new Map(),
    recovery: { lanes: new Map(), replays: 0 },
    maxBatch,
    pollMs: parameters.pollMs ?? { first: 5, max: 500 },
    stuckAfterMs: parameters.stuckAfterMs ?? 30_000,
    recoveryWaitMs: parameters.recoveryWaitMs ?? 5_000,
    log,
    async markSent(id, sent) {
      const marked = await sentBatch({ id, ...sent })
      // Not live any more (confirmed or failed by another path): the single-row write explains why.
      if (!marked.has(id)) await markIntentSent(db, id, sent)
    },
    markConfirmed: (id, result) => confirmedBatch({ id, result }),
    markFailed: (id, error) => markIntentFailed(db, id, { error }),
    unsend: (txHash) => markIntentsUnsent(db, txHash),
    relayerFor(lane) {
      let h = 0
      for (let i = 0; i < lane.length; i++) h = (h * 31 + lane.charCodeAt(i)) >>> 0
      return relayers[h % relayers.length]!
    },
  }
}
