import type { Agent } from '@agora/db'
import type { ActivityLog } from '../activity/activity-log.ts'
import type { SpendingPolicy } from '../define-agent.ts'
import { PolicyError } from '../errors.ts'
import type { Token, TokenRegistry } from '../wallet/tokens.ts'
import type { Ledger } from './spends-since.ts'

const periodMs = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const

export type SpendRequest = {
  amount: bigint
  token: Token
  /** The on-chain id of the agent paid or hired; for an x402 payee that is no agent hosted here, its address. */
  counterparty: string
  /** An x402 payment's payee and the host of the resource bought: allowed by address or by host too. */
  payee?: { address: string; host: string }
  action: 'pay' | 'hire' | 'x402'
  /** What the spend is recorded under (a payment's idempotency key, a job's id): counted once. */
  key: string
}

/**
 * Checks one spend against the agent's policy: amount above zero, allowed counterparty, the
 * policy's token, the per-job cap and the budget per period (against what the ledger holds). A
 * refusal is written to the agent's activity as a guardrail and thrown as a `PolicyError`.
 */
export async function checkSpend(
  deps: {
    tokens: TokenRegistry
    activity: ActivityLog
    /** The agent's spends in `token` over the last `periodMs`. */
    ledgerOf(agentId: string, token: string, periodMs: number): Promise<Ledger>
  },
  agent: Agent,
  request: SpendRequest,
): Promise<void> {
  const { tokens, activity, ledgerOf } = deps
  const policy = ((agent.definition as { policy?: SpendingPolicy }).policy ?? {}) as SpendingPolicy
  const refuse = async (reason: string, meta: Record<string, unknown> = {}) => {
    await activity.record(agent.id, 'guardrail', {
      refused: request.action,
      reason,
      amount: tokens.money(request.amount, request.token),
      counterparty: request.counterparty,
      ...meta,
    })
    throw new PolicyError(reason, { action: request.action, ...meta })
  }
  if (request.amount <= 0n) return refuse('The amount must be more than zero.')
  if (policy.allowedCounterparties && !isAllowed(policy.allowedCounterparties, request)) {
    const { payee } = request
    return refuse(
      payee
        ? `The payee ${payee.address} (of ${payee.host}) is not among this agent's allowed counterparties.`
        : `Agent ${request.counterparty} is not among this agent's allowed counterparties.`,
      payee ? { payee: payee.address, host: payee.host } : {},
    )
  }
  if (!policy.perJobCap && !policy.budget) return
  const policyToken = await tokens.resolve(policy.token)
  if (policyToken.address.toLowerCase() !== request.token.address.toLowerCase()) {
    return refuse(
      `This agent's limits are in ${policyToken.symbol}; it may not spend ${request.token.symbol}.`,
    )
  }
  if (policy.perJobCap) {
    const cap = tokens.parse(policy.perJobCap, policyToken)
    if (request.amount > cap) {
      return refuse(
        `${tokens.format(request.amount, policyToken)} ${policyToken.symbol} is over the per-job cap of ${policy.perJobCap}.`,
        { cap: policy.perJobCap },
      )
    }
  }
  if (policy.budget) {
    const budget = tokens.parse(policy.budget.amount, policyToken)
    const ledger = await ledgerOf(agent.id, policyToken.address.toLowerCase(), periodMs[policy.budget.period])
    // A retried spend is not counted against itself.
    const spent = ledger.total - (ledger.entries.get(request.key)?.amount ?? 0n)
    if (spent + request.amount > budget) {
      return refuse(
        `Spending ${tokens.format(request.amount, policyToken)} ${policyToken.symbol} would exceed the budget of ${policy.budget.amount} per ${policy.budget.period} (${tokens.format(spent, policyToken)} spent).`,
        {
          budget: policy.budget.amount,
          period: policy.budget.period,
          spent: tokens.format(spent, policyToken),
        },
      )
    }
  }
}

/** Whether the policy's list names the counterparty: by agent id, or for x402 by payee address or host. */
function isAllowed(allowed: string[], request: SpendRequest): boolean {
  if (allowed.includes(request.counterparty)) return true
  const { payee } = request
  if (!payee) return false
  const names = new Set([payee.address.toLowerCase(), payee.host.toLowerCase()])
  return allowed.some((entry) => names.has(entry.toLowerCase()))
}
