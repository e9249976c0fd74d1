import type { Agent, Db } from '@agora/db'
import type { ActivityLog } from '../activity/activity-log.ts'
import { createKeyedMutex } from '../outbox/mutex.ts'
import type { TokenRegistry } from '../wallet/tokens.ts'
import { checkSpend, type SpendRequest } from './check-spend.ts'
import { type Ledger, spendsSince } from './spends-since.ts'

/**
 * The spending policy in code: checks a spend before anything is signed and counts it once
 * recorded. `spend` checks and commits under one lock per agent; `release` takes back a spend
 * that failed or was refunded.
 */
export type PolicyGuard = {
  /**
   * Checks `request` against the agent's policy and, if allowed, runs `commit` (which records the
   * spend) before any later spend of the agent is checked. Spends made at once are checked one
   * after another and committed together.
   */
  spend<T>(agent: Agent, request: SpendRequest, commit: () => Promise<T>): Promise<T>
  /** A spend that no longer counts against the budget: its payment failed or its job was refunded. */
  release(agentId: string, key: string): void
}

const forget = (ledger: Ledger, key: string) => {
  const entry = ledger.entries.get(key)
  if (!entry) return
  ledger.entries.delete(key)
  ledger.total -= entry.amount
}

/**
 * Enforces an agent's spending policy in code, before anything is signed: per-job cap, budget per
 * period and allowed counterparties. `spend` runs the check and `commit` (which records the intent)
 * under one lock per agent, so concurrent spends cannot both pass against the same budget.
 *
 * What an agent has spent in its budget period is read from the database once and then kept in
 * memory (the runtime records every spend through here); `release` takes back a spend that failed
 * or was refunded.
 */
export function createPolicyGuard(deps: {
  db: Db
  tokens: TokenRegistry
  activity: ActivityLog
}): PolicyGuard {
  const { db, tokens, activity } = deps
  const locks = createKeyedMutex()
  const ledgers = new Map<string, Ledger>()

  /** The agent's ledger for `token` over `periodMs`, with spends older than the period dropped. */
  async function ledgerOf(agentId: string, token: string, periodMs: number): Promise<Ledger> {
    const since = Date.now() - periodMs
    let ledger = ledgers.get(agentId)
    if (!ledger || ledger.token !== token || ledger.periodMs !== periodMs) {
      const entries = await spendsSince(db, agentId, token, new Date(since))
      let total = 0n
      for (const entry of entries.values()) total += entry.amount
      ledger = { token, periodMs, entries, total }
      ledgers.set(agentId, ledger)
    }
    for (const [key, entry] of ledger.entries) {
      if (entry.at >= since) break
      forget(ledger, key)
    }
    return ledger
  }

  type Queued = {
    agent: Agent
    request: SpendRequest
    commit: () => Promise<unknown>
    resolve: (value: unknown) => void
    reject: (error: unknown) => void
  }
  const queued = new Map<string, Queued[]>()

  /** Counts a spend in the agent's ledger (if one is kept); true when it was not counted before. */
  function count(agentId: string, request: SpendRequest) {
    const ledger = ledgers.get(agentId)
    if (ledger?.token !== request.token.address.toLowerCase() || ledger.entries.has(request.key)) return false
    ledger.entries.set(request.key, { at: Date.now(), amount: request.amount })
    ledger.total += request.amount
    return true
  }

  /**
   * Checks every spend queued for one agent, in order, each against the budget as the ones before it
   * left it; then commits those allowed together (their records share one database transaction).
   */
  async function drain(agentId: string) {
    const items = queued.get(agentId) ?? []
    queued.delete(agentId)
    const allowed: (Queued & { counted: boolean })[] = []
    for (const item of items) {
      try {
        await checkSpend({ tokens, activity, ledgerOf }, item.agent, item.request)
        allowed.push({ ...item, counted: count(agentId, item.request) })
      } catch (error) {
        item.reject(error)
      }
    }
    await Promise.all(
      allowed.map(async (item) => {
        try {
          item.resolve(await item.commit())
        } catch (error) {
          if (item.counted) release(agentId, item.request.key)
          item.reject(error)
        }
      }),
    )
  }

  /** A spend that no longer counts against the budget: its payment failed or its job was refunded. */
  function release(agentId: string, key: string) {
    const ledger = ledgers.get(agentId)
    if (ledger) forget(ledger, key)
  }

  return {
    spend<T>(agent: Agent, request: SpendRequest, commit: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let queue = queued.get(agent.id)
        if (!queue) {
          queue = []
          queued.set(agent.id, queue)
          void locks.run(agent.id, () => drain(agent.id))
        }
        queue.push({ agent, request, commit, resolve: resolve as (value: unknown) => void, reject })
      })
    },
    release,
  }
}
