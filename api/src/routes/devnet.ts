import { ConflictError, InternalError, moneySchema, toMoney, wrapChainError } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import {
  type Address,
  createPublicClient,
  createTestClient,
  createWalletClient,
  getAddress,
  type Hash,
  http,
  parseAbi,
  parseUnits,
  zeroAddress,
} from 'viem'
import type { AppEnv } from '../env.ts'
import { jsonRequest, jsonResponse } from '../openapi.ts'
import { HttpError, problems } from '../problem.ts'
import { clientKey } from './auth.ts'

/** What the devnet's stablecoin offers the faucet (DevUSD: only its deployer may mint). */
const devUSDAbi = parseAbi([
  'function minter() view returns (address)',
  'function mint(address to, uint256 amount)',
])

const dUSD = { symbol: 'dUSD', decimals: 6 } as const
const eth = { symbol: 'ETH', decimals: 18, address: zeroAddress } as const

// The refinements run even when the pattern failed: they parse only what the pattern accepts.
const decimal = (v: string) => /^\d+(\.\d+)?$/.test(v)
const tokenAmount = (symbol: string, decimals: number, max: string) =>
  z
    .string()
    .max(40)
    .regex(
      new RegExp(`^\\d+(\\.\\d{1,${decimals}})?$`),
      `must be a decimal number of ${symbol} as a string, with at most ${decimals} decimals, e.g. "2.5"`,
    )
    .refine(
      (v) => !decimal(v) || parseUnits(v, decimals) <= parseUnits(max, decimals),
      `must be at most ${max}`,
    )

export const faucetBody = z
  .strictObject({
    to: z
      .string()
      .min(1)
      .max(100)
      .regex(
        /^(0x[0-9a-fA-F]{40}|agt_\w{1,64}|\d{1,78})$/,
        'must be an address, or an agent id (`agt_…` or an on-chain id)',
      )
      .describe("An address, or an agent hosted here (`agt_…` or its on-chain id): then the agent's Safe."),
    amount: tokenAmount('dUSD', dUSD.decimals, '1000')
      .refine((v) => !decimal(v) || parseUnits(v, dUSD.decimals) > 0n, 'must be more than zero')
      .optional()
      .describe('dUSD to mint, at most 1,000 (default 100).'),
    eth: tokenAmount('ETH', eth.decimals, '1')
      .optional()
      .describe('ETH to send for gas, at most 1 (default 0.01; "0" for none).'),
  })
  .meta({ id: 'FaucetRequest' })

const faucetView = z
  .object({
    to: z.string().describe('The address funded (lower-case, as every address the API answers with).'),
    agentId: z.string().nullable().describe('The agent whose Safe it is, when `to` named one.'),
    dUSD: moneySchema.describe('Minted to it.'),
    eth: moneySchema.describe('Sent to it.'),
    transactions: z.array(z.string()).describe('The transactions that did it.'),
  })
  .meta({ id: 'FaucetGrant', description: 'What the devnet faucet gave.' })

const route = createRoute({
  method: 'post',
  path: '/faucet',
  summary: 'Devnet only: mint dUSD (and send a little ETH) to an address or an agent’s Safe',
  description:
    'Present only when the API runs on the embedded devnet (404 elsewhere). Mints `amount` dUSD (default 100, at most 1,000) and sends `eth` ETH (default 0.01, at most 1) to `to`: an address, or an agent id (`agt_…` or on-chain id), whose Safe is funded. At most 5 requests a minute per client and per target (429 with Retry-After).',
  tags: ['devnet'],
  request: { body: jsonRequest(faucetBody) },
  responses: {
    200: jsonResponse(faucetView, 'Funded'),
    ...problems(400, 404, 409, 413, 415, 429, 503),
  },
})

export type DevnetRouterParameters = {
  /** The devnet's RPC URL (an anvil node: the faucet mints as the token's minter through it). */
  rpcUrl: string
  /** The devnet's dUSD (`DevUSD`) contract. */
  devUSD: Address
  /** Requests per client and per target within `windowMs` (default 5 a minute). */
  limit?: { max: number; windowMs: number }
}

/**
 * `/devnet`: the faucet of the embedded devnet (mounted only there). The stablecoin is minted by
 * its minter, the devnet's deployer, which the node lets the faucet act as (anvil's impersonation):
 * no key is held here, and a chain that is not a development node refuses it.
 */
export function devnetRouter(parameters: DevnetRouterParameters) {
  const { rpcUrl, devUSD } = parameters
  const limit = parameters.limit ?? { max: 5, windowMs: 60_000 }
  const perClient = createWindowLimiter(limit)
  const perTarget = createWindowLimiter(limit)
  const transport = http(rpcUrl)
  const publicClient = createPublicClient({ transport })
  const testClient = createTestClient({ mode: 'anvil', transport })
  const walletClient = createWalletClient({ transport })
  let minter: Promise<Address> | undefined
  const minterOf = () => {
    minter ??= (async () => {
      const address = await publicClient.readContract({
        address: devUSD,
        abi: devUSDAbi,
        functionName: 'minter',
      })
      await testClient.impersonateAccount({ address })
      return address
    })().catch((error: unknown) => {
      minter = undefined
      throw error
    })
    return minter
  }

  const app = new OpenAPIHono<AppEnv>()
  // The client's limit comes first, before the body is read: a flood costs nothing.
  app.use('/faucet', async (c, next) => {
    refuseIfLimited(c, perClient, clientKey(c), 'This client asked the faucet too often')
    await next()
  })
  app.openapi(route, async (c) => {
    const body = c.req.valid('json')
    const { address, agentId } = await targetOf(c, body.to)
    refuseIfLimited(c, perTarget, address.toLowerCase(), `${body.to} was funded too often`)
    const value = parseUnits(body.amount ?? '100', dUSD.decimals)
    const wei = parseUnits(body.eth ?? '0.01', eth.decimals)
    const transactions = await fund({ address, value, wei }).catch((error: unknown) => {
      throw wrapChainError(error, 'Funding from the devnet faucet')
    })
    return c.json(
      {
        to: address.toLowerCase(),
        agentId,
        dUSD: toMoney(value, { ...dUSD, address: devUSD }),
        eth: toMoney(wei, eth),
        transactions,
      },
      200,
    )
  })

  async function fund(grant: { address: Address; value: bigint; wei: bigint }): Promise<Hash[]> {
    const account = await minterOf()
    const hashes = [
      await walletClient.writeContract({
        account,
        chain: null,
        address: devUSD,
        abi: devUSDAbi,
        functionName: 'mint',
        args: [grant.address, grant.value],
      }),
    ]
    if (grant.wei > 0n)
      hashes.push(
        await walletClient.sendTransaction({ account, chain: null, to: grant.address, value: grant.wei }),
      )
    for (const hash of hashes) {
      const receipt = await publicClient.waitForTransactionReceipt({ hash })
      if (receipt.status !== 'success') throw new InternalError(`The faucet's transaction ${hash} reverted.`)
    }
    return hashes
  }

  return app
}

/** The address to fund: the one given, or the Safe of the agent named (by `agt_…` or on-chain id). */
async function targetOf(
  c: Context<AppEnv>,
  to: string,
): Promise<{ address: Address; agentId: string | null }> {
  if (to.startsWith('0x')) return { address: getAddress(to), agentId: null }
  const agent = await c.var.runtime.getAgent(to)
  if (!agent.safe)
    throw new ConflictError(`Agent "${agent.name}" is still launching: it has no Safe to fund yet.`, {
      code: 'AGENT_LAUNCHING',
    })
  return { address: getAddress(agent.safe), agentId: agent.id }
}

function refuseIfLimited(c: Context, limiter: WindowLimiter, key: string, what: string) {
  const retryAfter = limiter.hit(key)
  if (retryAfter === undefined) return
  c.header('retry-after', String(retryAfter))
  throw new HttpError('RATE_LIMITED', `${what}; try again in ${retryAfter} s.`)
}

type WindowLimiter = {
  /** Counts a request of `key`: undefined when allowed, else the seconds until one more would be. */
  hit(key: string, now?: number): number | undefined
}

/**
 * At most `max` requests per key in any `windowMs` (a sliding window over the times of the last
 * `max` requests), in memory. Keys without a request in the window are dropped as the map grows.
 */
function createWindowLimiter(parameters: { max: number; windowMs: number }): WindowLimiter {
  const { max, windowMs } = parameters
  const hits = new Map<string, number[]>()
  return {
    hit(key, now = Date.now()) {
      if (hits.size > 10_000)
        for (const [k, times] of hits) if (times.at(-1)! <= now - windowMs) hits.delete(k)
      const recent = (hits.get(key) ?? []).filter((t) => t > now - windowMs)
      if (recent.length >= max) {
        hits.set(key, recent)
        return Math.max(1, Math.ceil((recent[0]! + windowMs - now) / 1000))
      }
      recent.push(now)
      hits.set(key, recent)
      return undefined
    },
  }
}
