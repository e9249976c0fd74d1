import {
  type Db,
  type Intent,
  type IntentKind as IntentKindName,
  listUnfinishedIntents,
  markIntentFailed,
  markIntentSent,
  markIntentsConfirmed,
  markIntentsSent,
  recordIntent,
  recordIntents,
} from '@agora/db'
import {
  type Address,
  type Hex,
  keccak256,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { createBatcher } from './batcher.ts'
import { BaseError, isTransientChainError, wrapChainError } from './errors.ts'
import { createKeyedMutex, createMutex, type Mutex } from './mutex.ts'

/** A call to send: built from an intent's payload when it is (re)sent. */
export type Call = {
  to: Address
  data: Hex
  value?: bigint
  /** The sequence this call belongs to (e.g. a Safe's nonce); it is committed only once the call is sent. */
  commit?: () => void
  /** Undoes whatever `build` reserved when the call is not sent or fails on-chain. */
  rollback?: () => void
}

/** An intent waiting for its lane; `taken` once another's batch carries it, `sent` once that went out. */
type Waiting = {
  intent: Intent
  taken?: boolean
  sent?: { call: Call; hash: Hex; batched: boolean }
  /** The batch carrying it was recorded but failed to go out: it must not be sent again on its own. */
  error?: unknown
}

/** How one kind of intent becomes a call, and what happens once it lands. */
export type IntentKind = {
  /** The lane serialises intents that must land in order (e.g. one Safe's transactions). */
  lane(payload: Record<string, unknown>): string
  build(intent: Intent): Promise<Call>
  /**
   * Several intents of this kind queued in one lane, as one call (e.g. a Safe's MultiSend). Kinds
   * that have it see their queued intents sent together: one transaction, one signature.
   */
  buildMany?(intents: Intent[]): Promise<Call>
  /** Runs after the receipt, also when recovery finds it; must be idempotent. */
  onSettled?(intent: Intent, receipt: TransactionReceipt): Promise<Record<string, unknown> | undefined>
  onFailed?(intent: Intent, error: BaseError): Promise<void>
  /** A clearer account of why the call is refused than the outer transaction's revert, if it has one. */
  explain?(intent: Intent): Promise<BaseError | undefined>
}

export type TransactionManagerParameters = {
  publicClient: PublicClient
  /** The outbox: intents are rows in this database. */
  db: Db
  /** Accounts that send and pay gas for every transaction (relayers); one nonce sequence each. */
  relayers: readonly LocalAccount[]
  log?: (line: string) => void
  /** Receipt polling: first delay and cap, in milliseconds. */
  pollMs?: { first: number; max: number }
  /** The most queued intents of one lane sent in one transaction (kinds with `buildMany`); 1 turns it off. */
  maxBatch?: number
}

/** What identifies an intent: recorded once under its key, in the caller's database transaction if it likes. */
export type IntentInput = {
  idempotencyKey: string
  kind: IntentKindName
  agentId: string | null
  payload: Record<string, unknown>
}

export type TransactionManager = {
  registerKind(kind: IntentKindName, definition: IntentKind): void
  /** Records the intent (idempotently) in `db`, which may be a transaction the caller holds open. */
  record(db: Db, input: IntentInput): Promise<{ intent: Intent; created: boolean }>
  /** `record` for many intents in one statement; results in the order given. */
  recordMany(db: Db, inputs: IntentInput[]): Promise<{ intent: Intent; created: boolean }[]>
  /**
   * Records the intent under `idempotencyKey` (or finds it), sends it unless it already went out, and
   * resolves with the receipt. The same key never sends twice.
   */
  /** `recorded`: the intent row when the caller has just recorded it (saves reading it back). */
  execute(input: IntentInput, recorded?: Intent): Promise<{ intent: Intent; receipt: TransactionReceipt }>
  /** Finishes every intent a previous process left unfinished: rebroadcasts, waits, or sends. */
  recover(): Promise<{ recovered: number }>
  relayerFor(lane: string): LocalAccount
}

/**
 * Sends the runtime's transactions. Every money movement is an intent in the outbox with an
 * idempotency key before it is signed; the signed bytes are stored before they are broadcast, so a
 * crash at any point is finished on restart by rebroadcasting the very same transaction (never a
 * second one). Nonces are kept per relayer in memory and assigned under a lock.
 */
export function createTransactionManager(parameters: TransactionManagerParameters): TransactionManager {
  const { publicClient, db, relayers, log = () => {} } = parameters
  const poll = parameters.pollMs ?? { first: 5, max: 500 }
  const maxBatch = parameters.maxBatch ?? 16
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1)
    throw new BaseError(`maxBatch must be a whole number from 1 up, not ${maxBatch}.`, {
      code: 'INVALID_CONFIG',
    })
  if (relayers.length === 0)
    throw new BaseError('At least one relayer account is needed.', { code: 'INVALID_CONFIG' })
  const kinds = new Map<string, IntentKind>()
  const relayerLocks = new Map<Address, Mutex>(relayers.map((r) => [r.address, createMutex()]))
  const laneLocks = createKeyedMutex()
  const nonces = new Map<Address, number>()
  const gasUsed = new Map<string, bigint>()
  const inFlight = new Map<string, Promise<{ intent: Intent; receipt: TransactionReceipt }>>()
  // Intents waiting for their lane, in order: the one that gets the lane takes the others of its kind
  // along in one transaction (they then find their transaction sent when their own turn comes).
  const waiting = new Map<string, Waiting[]>()
  const receipts = new Map<Hex, Promise<TransactionReceipt>>()
  // Concurrent senders share their outbox writes (group commit): one statement for many intents.
  const sentBatch = createBatcher(
    (items: { id: number; txHash: string; nonce: number | null; rawTx: string }[]) =>
      markIntentsSent(db, items),
  )
  const confirmedBatch = createBatcher((items: { id: number; result: Record<string, unknown> }[]) =>
    markIntentsConfirmed(db, items),
  )
  const store = {
    async markSent(id: number, sent: { txHash: string; nonce: number | null; rawTx: string }) {
      const marked = await sentBatch({ id, ...sent })
      // Not live any more (confirmed or failed by another path): the single-row write explains why.
      if (!marked.has(id)) await markIntentSent(db, id, sent)
    },
    markConfirmed: (id: number, result: Record<string, unknown>) => confirmedBatch({ id, result }),
    markFailed: (id: number, error: string) => markIntentFailed(db, id, { error }),
  }
  const withSigner = (input: IntentInput) => ({
    ...input,
    signer: relayerFor(laneOf(input.kind, input.payload)).address,
  })
  const record = (into: Db, input: IntentInput) => recordIntent(into, withSigner(input))
  let chainId: number | undefined
  let fees: { at: number; value: Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> } | undefined

  const kindOf = (intent: { kind: string }) => {
    const kind = kinds.get(intent.kind as IntentKindName)
    if (!kind) throw new BaseError(`No handler for intents of kind "${intent.kind}".`, { code: 'INTERNAL' })
    return kind
  }
  const laneOf = (kind: string, payload: Record<string, unknown>) => kindOf({ kind }).lane(payload)
  const relayerFor = (lane: string) => {
    let h = 0
    for (let i = 0; i < lane.length; i++) h = (h * 31 + lane.charCodeAt(i)) >>> 0
    return relayers[h % relayers.length]!
  }
  const feesPerGas = () => {
    const now = Date.now()
    if (!fees || now - fees.at > 2_000) {
      const value = publicClient.estimateFeesPerGas()
      fees = { at: now, value }
      value.catch(() => {
        fees = undefined
      })
    }
    return fees.value
  }
  const nextNonce = async (relayer: Address) => {
    let nonce = nonces.get(relayer)
    if (nonce === undefined) {
      nonce = await publicClient.getTransactionCount({ address: relayer, blockTag: 'pending' })
      nonces.set(relayer, nonce)
    }
    return nonce
  }

  async function withRetries<T>(what: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run()
      } catch (error) {
        if (attempt >= 5 || !isTransientChainError(error)) throw error
        const delay = 100 * 2 ** attempt
        log(`${what}: transient RPC error, retrying in ${delay} ms (${attempt}/5)`)
        await new Promise((r) => setTimeout(r, delay))
      }
    }
  }

  /**
   * The gas limit for a call, after simulating it against the pending state (a revert is refused here,
   * before a nonce is spent). The first call of a kind is estimated; later ones reuse twice the most
   * gas that kind has used, plus headroom: one simulation instead of an estimate's many. `calls`: how
   * many calls of the kind `call` carries (a batch). Unused gas costs nothing.
   */
  async function gasLimit(kind: string, from: Address, call: Call, calls = 1): Promise<bigint> {
    const request = {
      account: from,
      to: call.to,
      data: call.data,
      value: call.value,
      blockTag: 'pending' as const,
    }
    const used = gasUsed.get(kind)
    if (used === undefined) return ((await publicClient.estimateGas(request)) * 6n) / 5n + 10_000n
    await publicClient.call(request)
    return used * 2n * BigInt(calls) + 100_000n
  }

  async function waitForReceipt(hash: Hex): Promise<TransactionReceipt> {
    let delay = poll.first
    for (;;) {
      const receipt = await withRetries('receipt', () =>
        publicClient.getTransactionReceipt({ hash }).catch((error: unknown) => {
          if (error instanceof Error && error.name === 'TransactionReceiptNotFoundError') return undefined
          throw error
        }),
      )
      if (receipt) return receipt
      await new Promise((r) => setTimeout(r, delay))
      delay = Math.min(delay * 2, poll.max)
    }
  }

  async function settle(intent: Intent, receipt: TransactionReceipt, batched = false) {
    const kind = kindOf(intent)
    // A batch's gas is many calls' gas: what one call of the kind uses is learned from single sends.
    if (!batched && receipt.gasUsed > (gasUsed.get(intent.kind) ?? 0n))
      gasUsed.set(intent.kind, receipt.gasUsed)
    if (receipt.status !== 'success') {
      const error = new BaseError(`The ${intent.kind} transaction ${receipt.transactionHash} reverted.`, {
        code: 'TRANSACTION_FAILED',
      })
      await store.markFailed(intent.id, error.shortMessage)
      await kind.onFailed?.(intent, error)
      throw error
    }
    const result = {
      txHash: receipt.transactionHash,
      blockNumber: Number(receipt.blockNumber),
      gasUsed: Number(receipt.gasUsed),
      ...(await kind.onSettled?.(intent, receipt)),
    }
    await store.markConfirmed(intent.id, result)
    return { intent: { ...intent, status: 'confirmed' as const, result }, receipt }
  }

  /**
   * Builds, simulates, signs, records and broadcasts one intent, holding its lane; intents of the same
   * kind queued behind it in the lane go along in the same transaction when the kind can batch.
   */
  async function send(intent: Intent) {
    const kind = kindOf(intent)
    const lane = kind.lane(intent.payload)
    const me: Waiting = { intent }
    const batchable = kind.buildMany !== undefined && maxBatch > 1
    if (batchable) {
      const queue = waiting.get(lane) ?? []
      queue.push(me)
      waiting.set(lane, queue)
    }
    // The lane is held until the transaction is broadcast, not until it is mined: a Safe's next
    // transaction is built against the pending state, so one agent's transactions pipeline.
    let sent: { call: Call; hash: Hex; batched: boolean }
    try {
      sent = await laneLocks.run(lane, async () => {
        if (me.sent) return me.sent
        if (me.error) throw me.error
        // Intents recorded together reach their lane over a few microtasks: let them all queue up.
        if (batchable) await new Promise((resolve) => setImmediate(resolve))
        const batch = batchable ? takeBatch(lane, me) : [me]
        if (batch.length > 1) {
          const many = await sendMany(kind, lane, batch)
          if (many) return many
          // The batch would not go through as one (one of its calls is refused): each goes alone.
          log(
            `transactions: ${batch.length} ${intent.kind} intents refused as one batch; sending them one by one`,
          )
          for (const other of batch) if (other !== me) delete other.taken
        }
        return sendOne(kind, lane, intent)
      })
    } finally {
      if (batchable) leave(lane, me)
    }
    const { call, hash, batched } = sent
    const receipt = await receiptOf(hash)
    if (receipt.status !== 'success') call.rollback?.()
    return settle({ ...intent, status: 'sent', txHash: hash }, receipt, batched)
  }

  /** Takes `me` and the intents of its kind waiting behind it in the lane (not yet taken). */
  function takeBatch(lane: string, me: Waiting): Waiting[] {
    const batch = [me]
    for (const other of waiting.get(lane) ?? []) {
      if (batch.length >= maxBatch) break
      if (other === me || other.taken || other.sent || other.intent.kind !== me.intent.kind) continue
      other.taken = true
      batch.push(other)
    }
    return batch
  }

  function leave(lane: string, me: Waiting) {
    const queue = waiting.get(lane)
    if (!queue) return
    const at = queue.indexOf(me)
    if (at >= 0) queue.splice(at, 1)
    if (queue.length === 0) waiting.delete(lane)
  }

  /** One receipt wait per transaction hash, however many intents it carries. */
  function receiptOf(hash: Hex) {
    let receipt = receipts.get(hash)
    if (!receipt) {
      receipt = waitForReceipt(hash)
      receipts.set(hash, receipt)
      const forget = () => receipts.delete(hash)
      receipt.then(forget, forget)
    }
    return receipt
  }

  /** Sends one intent as its own transaction (inside its lane). */
  async function sendOne(kind: IntentKind, lane: string, intent: Intent) {
    const relayer = relayerFor(lane)
    const call = await kind.build(intent)
    let gas: bigint
    try {
      gas = await withRetries(intent.kind, () => gasLimit(intent.kind, relayer.address, call))
    } catch (error) {
      call.rollback?.()
      let wrapped = wrapChainError(error, intent.kind)
      if (wrapped.code !== 'CHAIN_UNAVAILABLE') {
        wrapped = (await kind.explain?.(intent).catch(() => undefined)) ?? wrapped
        await store.markFailed(intent.id, wrapped.shortMessage)
        await kind.onFailed?.(intent, wrapped)
      }
      throw wrapped
    }
    const hash = await signAndBroadcast(relayer, call, gas, [intent])
    return { call, hash, batched: false }
  }

  /**
   * Sends several intents of one lane as one transaction. Undefined, with nothing sent and nothing
   * reserved, when the batch cannot go as one (a call in it would be refused): the caller then sends
   * each on its own. Once the batch is recorded, a failure is every member's failure: none of them
   * may be sent again apart from it.
   */
  async function sendMany(kind: IntentKind, lane: string, batch: Waiting[]) {
    const relayer = relayerFor(lane)
    const intents = batch.map((w) => w.intent)
    let call: Call
    try {
      call = await kind.buildMany!(intents)
    } catch {
      return undefined
    }
    let gas: bigint
    try {
      gas = await gasLimit(intents[0]!.kind, relayer.address, call, intents.length)
    } catch {
      call.rollback?.()
      return undefined
    }
    try {
      const hash = await signAndBroadcast(relayer, call, gas, intents)
      const sent = { call, hash, batched: true }
      for (const other of batch.slice(1)) other.sent = sent
      return sent
    } catch (error) {
      for (const other of batch.slice(1)) other.error = error
      throw error
    }
  }

  /**
   * Signs `call` with the relayer's next nonce, records the signed bytes on every intent it carries
   * (the first holds the nonce), then broadcasts. A crash from the record on rebroadcasts the same bytes.
   */
  async function signAndBroadcast(relayer: LocalAccount, call: Call, gas: bigint, carried: Intent[]) {
    chainId ??= await publicClient.getChainId()
    const { maxFeePerGas, maxPriorityFeePerGas } = await withRetries('fees', feesPerGas)
    return relayerLocks.get(relayer.address)!.run(async () => {
      const nonce = await nextNonce(relayer.address)
      const rawTx = await relayer.signTransaction({
        chainId: chainId!,
        type: 'eip1559',
        nonce,
        to: call.to,
        data: call.data,
        value: call.value ?? 0n,
        gas,
        maxFeePerGas,
        maxPriorityFeePerGas,
      })
      const txHash = keccak256(rawTx)
      // The signed bytes are in the outbox before they leave: a crash from here on rebroadcasts them.
      await Promise.all(
        carried.map((intent, n) =>
          store.markSent(intent.id, { nonce: n === 0 ? nonce : null, txHash, rawTx }),
        ),
      )
      nonces.set(relayer.address, nonce + 1)
      call.commit?.()
      await broadcast(rawTx, txHash, relayer.address)
      return txHash
    })
  }

  async function broadcast(rawTx: Hex, txHash: Hex, relayer: Address) {
    try {
      await withRetries('broadcast', () => publicClient.sendRawTransaction({ serializedTransaction: rawTx }))
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error)
      // The node has these very bytes already (a rebroadcast): waiting for the receipt is all there is to do.
      if (/already known|already imported|transaction already exists/i.test(text)) return
      if (/nonce too low/i.test(text)) {
        const landed = await publicClient.getTransactionReceipt({ hash: txHash }).catch(() => undefined)
        if (landed) return
        nonces.delete(relayer) // the nonce went to another transaction: resync before the next one
      }
      throw wrapChainError(error, 'broadcasting a transaction')
    }
  }

  return {
    registerKind(kind, definition) {
      kinds.set(kind, definition)
    },
    record,
    recordMany: (into, inputs) => recordIntents(into, inputs.map(withSigner)),
    relayerFor,
    execute(input, recorded) {
      const existing = inFlight.get(input.idempotencyKey)
      if (existing) return existing
      const run = (async () => {
        const intent = recorded?.status === 'pending' ? recorded : (await record(db, input)).intent
        if (intent.status === 'confirmed') {
          const receipt = await publicClient.getTransactionReceipt({ hash: intent.txHash as Hex })
          return { intent, receipt }
        }
        if (intent.status === 'failed') {
          throw new BaseError(`This ${intent.kind} already failed: ${intent.lastError}`, { code: 'CONFLICT' })
        }
        if (intent.status === 'sent') {
          const receipt = await resumeSent(intent)
          return receipt ? settle(intent, receipt) : send(intent)
        }
        return send(intent)
      })()
      inFlight.set(input.idempotencyKey, run)
      run.then(
        () => inFlight.delete(input.idempotencyKey),
        () => inFlight.delete(input.idempotencyKey),
      )
      return run
    },
    async recover() {
      const unfinished = await listUnfinishedIntents(db)
      if (unfinished.length > 0)
        log(`transactions: finishing ${unfinished.length} intent(s) left by the last run`)
      // Sent ones first, in nonce order, so that pending ones get fresh nonces after them. An intent
      // that rode in another's transaction (a batch) has that transaction's nonce.
      const sent = unfinished.filter((i) => i.status === 'sent')
      const nonceOfTx = new Map(sent.filter((i) => i.nonce !== null).map((i) => [i.txHash, i.nonce!]))
      const nonceOf = (i: Intent) => i.nonce ?? nonceOfTx.get(i.txHash) ?? -1
      sent.sort((a, b) => nonceOf(a) - nonceOf(b))
      for (const intent of sent) {
        try {
          const receipt = await resumeSent(intent)
          if (receipt) await settle(intent, receipt)
          else await send(intent)
        } catch (error) {
          log(
            `transactions: ${intent.kind} ${intent.idempotencyKey} did not complete: ${(error as Error).message}`,
          )
        }
      }
      nonces.clear()
      for (const intent of unfinished.filter((i) => i.status === 'pending')) {
        try {
          await send(intent)
        } catch (error) {
          log(
            `transactions: ${intent.kind} ${intent.idempotencyKey} did not complete: ${(error as Error).message}`,
          )
        }
      }
      return { recovered: unfinished.length }
    },
  }

  /**
   * A sent intent: its receipt if it landed, else the same bytes again. Undefined when its nonce went
   * to another transaction, so these bytes can never land: the intent is then built afresh.
   */
  async function resumeSent(intent: Intent): Promise<TransactionReceipt | undefined> {
    const hash = intent.txHash as Hex
    const landed = await publicClient.getTransactionReceipt({ hash }).catch(() => undefined)
    if (landed) return landed
    try {
      await broadcast(intent.rawTx as Hex, hash, intent.signer as Address)
    } catch (error) {
      if (error instanceof BaseError && /nonce too low/i.test(String((error.cause as Error)?.message)))
        return undefined
      throw error
    }
    return waitForReceipt(hash)
  }
}
