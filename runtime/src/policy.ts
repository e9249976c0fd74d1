import { type Agent, tables } from '@agora/db'
import { and, eq, gte, inArray, notInArray, sql } from 'drizzle-orm'
import type { RuntimeContext } from './context.ts'
import type { SpendingPolicy } from './define-agent.ts'
import { PolicyError } from './errors.ts'
import { createKeyedMutex } from './mutex.ts'
import type { Token } from './tokens.ts'

const { jobs, payments } = tables

const periodMs = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const

export type SpendRequest = {
  amount: bigint
  token: Token
  /** The on-chain id of the agent paid or hired. */
  counterparty: string
  action: 'pay' | 'hire'
}

/**
 * Enforces an agent's spending policy in code, before anything is signed: per-job cap, budget per
 * period and allowed counterparties. `spend` runs the check and `commit` (which records the intent)
 * under one lock per agent, so concurrent spends cannot both pass against the same budget.
 */
export function createPolicyGuard(ctx: RuntimeContext) {
  const locks = createKeyedMutex()

  async function check(agent: Agent, request: SpendRequest) {
    const policy = ((agent.definition as { policy?: SpendingPolicy }).policy ?? {}) as SpendingPolicy
    const refuse = async (reason: string, meta: Record<string, unknown> = {}) => {
      await ctx.record(agent.id, 'guardrail', {
        refused: request.action,
        reason,
        amount: ctx.tokens.format(request.amount, request.token),
        token: request.token.symbol,
        counterparty: request.counterparty,
        ...meta,
      })
      throw new PolicyError(reason, { action: request.action, ...meta })
    }
    if (request.amount <= 0n) return refuse('The amount must be more than zero.')
    if (policy.allowedCounterparties && !policy.allowedCounterparties.includes(request.counterparty)) {
      return refuse(`Agent ${request.counterparty} is not among this agent's allowed counterparties.`)
    }
    if (!policy.perJobCap && !policy.budget) return
    const policyToken = await ctx.tokens.resolve(policy.token ?? 'dUSD')
    if (policyToken.address.toLowerCase() !== request.token.address.toLowerCase()) {
      return refuse(
        `This agent's limits are in ${policyToken.symbol}; it may not spend ${request.token.symbol}.`,
      )
    }
    if (policy.perJobCap) {
      const cap = ctx.tokens.parse(policy.perJobCap, policyToken)
      if (request.amount > cap) {
        return refuse(
          `${ctx.tokens.format(request.amount, policyToken)} ${policyToken.symbol} is over the per-job cap of ${policy.perJobCap}.`,
          { cap: policy.perJobCap },
        )
      }
    }
    if (policy.budget) {
      const budget = ctx.tokens.parse(policy.budget.amount, policyToken)
      const since = new Date(Date.now() - periodMs[policy.budget.period])
      const spent = await spentSince(ctx, agent.id, policyToken.address, since)
      if (spent + request.amount > budget) {
        return refuse(
          `Spending ${ctx.tokens.format(request.amount, policyToken)} ${policyToken.symbol} would exceed the budget of ${policy.budget.amount} per ${policy.budget.period} (${ctx.tokens.format(spent, policyToken)} spent).`,
          {
            budget: policy.budget.amount,
            period: policy.budget.period,
            spent: ctx.tokens.format(spent, policyToken),
          },
        )
      }
    }
  }

  return {
    /** Checks `request` against the agent's policy and, if allowed, runs `commit` before the lock is released. */
    spend<T>(agent: Agent, request: SpendRequest, commit: () => Promise<T>): Promise<T> {
      return locks.run(agent.id, async () => {
        await check(agent, request)
        return commit()
      })
    },
  }
}

/** What an agent has committed in a token since `since`: payments not failed, jobs not refunded. */
async function spentSince(ctx: RuntimeContext, agentId: string, token: string, since: Date): Promise<bigint> {
  const t = token.toLowerCase()
  const [paid] = await ctx.db
    .select({ total: sql<string>`coalesce(sum(${payments.amount}), 0)::text` })
    .from(payments)
    .where(
      and(
        eq(payments.fromAgentId, agentId),
        eq(payments.token, t),
        gte(payments.createdAt, since),
        inArray(payments.status, ['pending', 'sent', 'confirmed']),
      ),
    )
  const [hired] = await ctx.db
    .select({ total: sql<string>`coalesce(sum(${jobs.budget}), 0)::text` })
    .from(jobs)
    .where(
      and(
        eq(jobs.clientAgentId, agentId),
        eq(jobs.token, t),
        gte(jobs.createdAt, since),
        notInArray(jobs.status, ['declined', 'rejected', 'expired', 'failed']),
      ),
    )
  return BigInt(paid?.total ?? '0') + BigInt(hired?.total ?? '0')
}

export type PolicyGuard = ReturnType<typeof createPolicyGuard>
