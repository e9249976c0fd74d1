import { type Agent, NotFoundError, ValidationError, zeroAddress } from '@agora/db'
import type { Address } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import type { Offering } from '../../define-agent.ts'
import type { Token } from '../../wallet/tokens.ts'
import { requireActiveAgent } from '../agents/require-active-agent.ts'

export type SaleQuote = {
  agent: Agent & { chainAgentId: string; safeAddress: string }
  offering: Offering
  /** The input as the offering's schema parsed it. */
  input: unknown
  token: Token
  /** Base units of `token`. */
  price: bigint
  /** Where the payment goes: the agent's Safe. */
  payTo: Address
  /** CAIP-2 network id (`eip155:<chainId>`). */
  network: `eip155:${number}`
  /** The token's EIP-712 domain name and version, which EIP-3009 authorizations are signed over. */
  domain: { name: string; version: string }
}

/**
 * What buying an offering of a hosted agent as an x402 resource costs, with the input checked first:
 * nobody is charged for an input the offering would refuse. The agent must be active and the
 * offering priced in an ERC-20 that takes EIP-3009 authorizations (ETH cannot be paid this way).
 *
 * @example
 * const quote = await quoteSale(client, '7', 'upper', { text: 'hi' })
 */
export async function quoteSale(
  client: RuntimeClient,
  agentRef: string,
  offeringName: string,
  input: unknown,
): Promise<SaleQuote> {
  const agent = /^\d{1,78}$/.test(agentRef)
    ? await client.agents.byChainId(agentRef)
    : await client.agents.get(agentRef).catch(() => undefined)
  if (!agent) throw new NotFoundError(`No agent ${agentRef} is hosted here.`)
  requireActiveAgent(agent, 'sell')
  const definition = client.definitions.get(agent.name)
  const offering = definition?.offerings.find((o) => o.name === offeringName)
  if (!definition || !offering)
    throw new NotFoundError(`Agent ${agentRef} sells no offering "${offeringName}".`)
  const parsed = offering.input.safeParse(input)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      path: ['input', ...i.path.map(String)],
      message: i.message,
    }))
    throw new ValidationError(
      `The input does not fit "${offering.name}": ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`,
      { meta: { issues: problems } },
    )
  }
  const token = await client.tokens.resolve(offering.token)
  if (token.address === zeroAddress)
    throw new ValidationError(
      `"${offering.name}" is priced in ETH, which x402 cannot carry; hire it through the escrow instead.`,
    )
  return {
    agent,
    offering,
    input: parsed.data,
    token,
    price: client.tokens.parse(offering.price, token),
    payTo: agent.safeAddress as Address,
    network: `eip155:${client.chain.chainId}`,
    domain: await eip712DomainOf(client, token.address),
  }
}

const eip5267Abi = [
  {
    type: 'function',
    name: 'eip712Domain',
    stateMutability: 'view',
    inputs: [],
    outputs: [
      { name: 'fields', type: 'bytes1' },
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
      { name: 'salt', type: 'bytes32' },
      { name: 'extensions', type: 'uint256[]' },
    ],
  },
] as const

const domains = new WeakMap<
  RuntimeClient['tokens'],
  Map<string, Promise<{ name: string; version: string }>>
>()

/** A token's EIP-712 name and version (EIP-5267), read once per token. */
async function eip712DomainOf(client: RuntimeClient, token: Address) {
  let cache = domains.get(client.tokens)
  if (!cache) {
    cache = new Map()
    domains.set(client.tokens, cache)
  }
  let domain = cache.get(token)
  if (!domain) {
    domain = client.chain.publicClient
      .readContract({ address: token, abi: eip5267Abi, functionName: 'eip712Domain' })
      .then(([, name, version]) => ({ name, version }))
    const kept = cache
    domain.catch(() => kept.delete(token))
    cache.set(token, domain)
  }
  return domain.catch((cause: unknown) => {
    throw new ValidationError(
      `The token ${token} has no EIP-712 domain (EIP-5267), so it takes no x402 payments.`,
      {
        cause,
      },
    )
  })
}
