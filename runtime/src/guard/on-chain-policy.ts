import { type Address, getAddress, isAddress } from 'viem'
import type { SpendingPolicy } from '../define-agent.ts'
import type { Token, TokenRegistry } from '../wallet/tokens.ts'

/** The most a limit can say (`uint96`): a cap or budget this high means none. */
export const UNLIMITED = 2n ** 96n - 1n

/** Seconds in each budget period the policy can name (a month is 30 days, as in the code check). */
export const periodSeconds = { hour: 3_600, day: 86_400, week: 7 * 86_400, month: 30 * 86_400 } as const

/** One token's limit as the agent module keeps it. */
export type TokenLimit = { token: Address; perCall: bigint; perPeriod: bigint; period: number }

/** `AgentModule.PolicyChange`: what `initialize` and `configure` take. */
export type PolicyChange = {
  removeLimits: Address[]
  setLimits: TokenLimit[]
  disallowAgents: bigint[]
  allowAgents: bigint[]
  disallowPayees: Address[]
  allowPayees: Address[]
  restricted: boolean
}

/**
 * An agent's spending policy as the agent module enforces it:
 * - with a per-job cap or a budget, only the policy's token can be spent, within them; without either,
 *   every token the runtime knows by symbol (ETH and the stablecoin) can, without limit;
 * - `allowedCounterparties` restricts payments and jobs to the listed agent ids, and to agents whose
 *   payment address is a listed address; host names are checked in code only;
 * - the agent's own key is an allowed payee (its hot wallet for x402 payments, which it signs as
 *   itself) unless an allow-list names no address or host, so that it cannot route around the list.
 * Plain transfers to the Safe's owners are always allowed (withdrawals) and never counted.
 *
 * @example
 * const change = await toPolicyChange(client.tokens, client.chain.knownTokens, definition.policy, agent.signerAddress)
 */
export async function toPolicyChange(
  tokens: Pick<TokenRegistry, 'resolve' | 'parse'>,
  knownTokens: Token[],
  policy: SpendingPolicy,
  agentKey: Address,
): Promise<PolicyChange> {
  const { allowedCounterparties: allowed } = policy
  const entries = allowed ?? []
  const allowPayees = entries.filter((e) => isAddress(e)).map((e) => getAddress(e))
  const hotWallet = !allowed || entries.some((e) => !/^\d+$/.test(e))
  if (hotWallet) allowPayees.push(getAddress(agentKey))
  return {
    removeLimits: [],
    setLimits: await limitsOf(tokens, knownTokens, policy),
    disallowAgents: [],
    allowAgents: entries.filter((e) => /^\d+$/.test(e)).map(BigInt),
    disallowPayees: [],
    allowPayees,
    restricted: allowed !== undefined,
  }
}

async function limitsOf(
  tokens: Pick<TokenRegistry, 'resolve' | 'parse'>,
  knownTokens: Token[],
  policy: SpendingPolicy,
): Promise<TokenLimit[]> {
  if (!policy.perJobCap && !policy.budget)
    return knownTokens.map((t) => ({ token: t.address, perCall: UNLIMITED, perPeriod: 0n, period: 0 }))
  const token = await tokens.resolve(policy.token)
  const clamp = (amount: bigint) => (amount > UNLIMITED ? UNLIMITED : amount)
  return [
    {
      token: token.address,
      perCall: policy.perJobCap ? clamp(tokens.parse(policy.perJobCap, token)) : UNLIMITED,
      perPeriod: policy.budget ? clamp(tokens.parse(policy.budget.amount, token)) : 0n,
      period: policy.budget ? periodSeconds[policy.budget.period] : 0,
    },
  ]
}

/**
 * The change that turns the policy written before (`from`) into `to`: limits of tokens `to` does not
 * name removed, counterparties and payees `to` does not list disallowed, the rest set again.
 *
 * @example
 * const change = policyChangeBetween(before, after)
 */
export function policyChangeBetween(from: PolicyChange, to: PolicyChange): PolicyChange {
  const kept = new Set(to.setLimits.map((l) => l.token.toLowerCase()))
  const agents = new Set(to.allowAgents)
  const payees = new Set(to.allowPayees.map((p) => p.toLowerCase()))
  return {
    ...to,
    removeLimits: from.setLimits.map((l) => l.token).filter((t) => !kept.has(t.toLowerCase())),
    disallowAgents: from.allowAgents.filter((a) => !agents.has(a)),
    disallowPayees: from.allowPayees.filter((p) => !payees.has(p.toLowerCase())),
  }
}
