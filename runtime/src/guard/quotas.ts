import { BaseError, type Db, type IntentKind, listOwnerIntents, type OwnerIntent } from '@agora/db'

/**
 * How much of the relayers' work one owner's agents may use per period. Anyone who signs in owns
 * agents, and every transaction is paid by the operator's relayers: without a cap, a fresh key could
 * launch and pay until the relayers run dry.
 */
export type QuotaLimits = {
  /** Agents one owner may launch per period (default 20). */
  launches: number
  /** Money movements one owner's agents may start per period: launches, payments, hires, withdrawals (default 2,000). */
  transactions: number
  /** Gas the relayers may spend on one owner's transactions per period (default 200,000,000). */
  gas: bigint
  /** The period, a rolling window, in milliseconds (default one day). */
  periodMs: number
}

/** `createRuntime({ quotas })`: limits to change (the rest keep their defaults), or `false` for none. */
export type QuotasParameters = Partial<QuotaLimits> | false

export const defaultQuotaLimits: QuotaLimits = {
  launches: 20,
  transactions: 2_000,
  gas: 200_000_000n,
  periodMs: 24 * 3_600_000,
}

/** A money movement an owner starts: what it is and the key of the intent that will carry it. */
export type QuotaRequest = {
  kind: 'launch' | 'pay' | 'createJob' | 'withdraw'
  /** The intent's idempotency key, when known before it is recorded: a retry is not counted twice. */
  key?: string
}

/** A per-owner quota is used up; `meta.retryAfterSeconds` says when the oldest use leaves the window. */
export class QuotaError extends BaseError<'QUOTA_EXCEEDED'> {
  override name = 'QuotaError'
  constructor(
    shortMessage: string,
    meta: { quota: keyof Omit<QuotaLimits, 'periodMs'>; retryAfterSeconds: number },
  ) {
    super(shortMessage, { code: 'QUOTA_EXCEEDED', meta })
  }
}

export type Quotas = {
  /**
   * Checks `request` against the owner's quotas and, if it fits, counts it and runs `record` (which
   * records the intent); a `record` that throws takes the count back. A request whose key is
   * already counted (a retry) runs without a check. Throws `QuotaError` when a quota is used up.
   */
  charge<T>(
    owner: string,
    request: QuotaRequest,
    record: () => Promise<T>,
    keyOf?: (result: T) => string,
  ): Promise<T>
}

// What the owner starts is counted as a transaction; gas is counted for these and for the steps
// that settle the owner's own hires. A provider's submit or decline is started by someone else's
// hire and counted to nobody (each hire bounds them).
const transactionKinds: readonly IntentKind[] = ['launch', 'pay', 'createJob', 'withdraw']
const gasKinds: readonly IntentKind[] = [
  ...transactionKinds,
  'approve',
  'completeJob',
  'rejectJob',
  'refundExpired',
]

/** Gas assumed for an intent until its receipt says (generous: a little above what each kind uses). */
const gasEstimates: Partial<Record<IntentKind, bigint>> = {
  launch: 500_000n,
  pay: 100_000n,
  createJob: 300_000n,
  withdraw: 100_000n,
}
const defaultEstimate = 100_000n

// Counts read from the database are read again after this long, to learn the gas receipts report.
const refreshMs = 60_000

type Entry = {
  at: number
  key: string
  kind: IntentKind
  gas: bigint
  /** Counted here before its intent reached the database (or still on its way there). */
  local: boolean
  recordedAt?: number
}
type Ledger = { entries: Entry[]; loadedAt: number }

/**
 * Per-owner quotas on launches, transactions and gas per period, enforced before an intent is
 * recorded. Counts come from the database (every intent of the owner's agents in the period, with
 * the gas its receipt reported), so a restart does not reset them, and are kept in memory between
 * reads; a check and its count happen without a pause, so concurrent requests cannot both take the
 * last unit.
 *
 * @example
 * const quotas = createQuotas(db, { launches: 5 })
 * await quotas.charge(owner, { kind: 'launch' }, () => recordLaunch())
 */
export function createQuotas(db: Db, parameters: QuotasParameters = {}): Quotas {
  if (parameters === false) return { charge: (_owner, _request, record) => record() }
  const limits: QuotaLimits = { ...defaultQuotaLimits, ...parameters }
  const ledgers = new Map<string, Ledger>()
  const loading = new Map<string, Promise<Ledger>>()

  async function load(owner: string): Promise<Ledger> {
    const startedAt = Date.now()
    const rows = await listOwnerIntents(db, {
      owner,
      since: new Date(startedAt - limits.periodMs),
      kinds: gasKinds,
    })
    const entries = entriesOf(rows)
    const loadedKeys = new Set(entries.map((e) => e.key))
    // Counts taken while the read ran, or not yet in the database, are kept.
    for (const entry of ledgers.get(owner)?.entries ?? []) {
      if (!entry.local || loadedKeys.has(entry.key)) continue
      if (entry.recordedAt === undefined || entry.recordedAt >= startedAt) entries.push(entry)
    }
    entries.sort((a, b) => a.at - b.at)
    const ledger = { entries, loadedAt: startedAt }
    ledgers.set(owner, ledger)
    return ledger
  }

  async function ledgerOf(owner: string): Promise<Ledger> {
    const known = ledgers.get(owner)
    if (known && Date.now() - known.loadedAt < refreshMs) return known
    let pending = loading.get(owner)
    if (!pending) {
      pending = load(owner).finally(() => loading.delete(owner))
      loading.set(owner, pending)
    }
    return pending
  }

  /** Throws when `request` does not fit in what the window leaves. */
  function check(ledger: Ledger, owner: string, request: QuotaRequest, now: number) {
    const since = now - limits.periodMs
    const live = ledger.entries.filter((e) => e.at >= since)
    ledger.entries = live
    const refuse = (quota: 'launches' | 'transactions' | 'gas', what: string, freedAt: number) => {
      const retryAfterSeconds = Math.max(1, Math.ceil((freedAt - now) / 1_000))
      throw new QuotaError(
        `${owner} has used ${what} allowed per ${describePeriod(limits.periodMs)}; try again in ${retryAfterSeconds} s.`,
        { quota, retryAfterSeconds },
      )
    }
    const count = (
      kinds: readonly IntentKind[],
      max: number,
      quota: 'launches' | 'transactions',
      what: string,
    ) => {
      const used = live.filter((e) => kinds.includes(e.kind))
      if (used.length >= max) {
        const oldest = used[used.length - max]
        refuse(quota, what, (oldest?.at ?? now) + limits.periodMs)
      }
    }
    if (request.kind === 'launch')
      count(['launch'], limits.launches, 'launches', `the ${limits.launches} launches`)
    count(transactionKinds, limits.transactions, 'transactions', `the ${limits.transactions} transactions`)
    const estimate = gasEstimates[request.kind] ?? defaultEstimate
    let gas = live.reduce((sum, e) => sum + e.gas, 0n)
    if (gas + estimate > limits.gas) {
      // Until enough of the oldest uses leave the window (or a whole period, if one never fits).
      let freedAt = now + limits.periodMs
      for (const entry of live) {
        gas -= entry.gas
        if (gas + estimate <= limits.gas) {
          freedAt = entry.at + limits.periodMs
          break
        }
      }
      refuse('gas', `the ${limits.gas} gas`, freedAt)
    }
  }

  return {
    async charge(owner, request, record, keyOf) {
      const id = owner.toLowerCase()
      const ledger = await ledgerOf(id)
      // From here to the count nothing waits: concurrent charges are checked one after another.
      if (request.key && ledger.entries.some((e) => e.key === request.key)) return record()
      const now = Date.now()
      check(ledger, owner, request, now)
      const entry: Entry = {
        at: now,
        key: request.key ?? `reserved:${crypto.randomUUID()}`,
        kind: request.kind,
        gas: gasEstimates[request.kind] ?? defaultEstimate,
        local: true,
      }
      ledger.entries.push(entry)
      try {
        const result = await record()
        if (keyOf) entry.key = keyOf(result)
        entry.recordedAt = Date.now()
        return result
      } catch (error) {
        const current = ledgers.get(id)
        if (current) current.entries = current.entries.filter((e) => e !== entry)
        throw error
      }
    },
  }
}

/** Ledger entries from stored intents: a batch's gas counted once, on the first intent it carried. */
function entriesOf(rows: OwnerIntent[]): Entry[] {
  const seen = new Set<string>()
  return rows.map((row) => {
    let gas: bigint
    if (row.status === 'confirmed' && row.gasUsed !== null && row.txHash) {
      gas = seen.has(row.txHash) ? 0n : row.gasUsed
      seen.add(row.txHash)
    } else if (row.status === 'failed' && !row.txHash) {
      gas = 0n // refused before it was signed: nothing was spent
    } else {
      gas = gasEstimates[row.kind] ?? defaultEstimate // on its way, or reverted on-chain (its gas was spent)
    }
    return { at: row.createdAt.getTime(), key: row.idempotencyKey, kind: row.kind, gas, local: false }
  })
}

function describePeriod(ms: number): string {
  if (ms % 86_400_000 === 0) return ms === 86_400_000 ? 'day' : `${ms / 86_400_000} days`
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`
  return `${Math.round(ms / 1_000)} s`
}
