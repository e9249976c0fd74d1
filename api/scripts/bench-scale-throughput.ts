/**
 * The throughput phase of `npm run bench:scale`, for one number of processes: payments and full
 * jobs per second over HTTP (each request sent to the process serving its payer), beside the
 * chain's raw rate of plain ERC-20 transfers sent with viem to the same anvil.
 */
import { devUSDAbi } from '@agora/contracts'
import { type Address, createPublicClient, createWalletClient, type Hex, http, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { percentile, round } from './bench-scale-launch.ts'
import { call, type ScaleServer } from './bench-scale-server.ts'

/** Requests in flight at once, all processes together (payments; then jobs). */
export const IN_FLIGHT = 16
/** Seconds of load before the counting starts: a pipeline's first completions come late. */
export const WARMUP_SECONDS = 2
export const PAYERS_PER_PROCESS = 4
/** What one payment moves and one job costs, dUSD. */
const AMOUNT = '0.01'

type Party = { id: string; chainAgentId: string; safe: Address; url: string }
export type Parties = { payers: Party[]; payee: Party; provider: Party }

export type Rate = {
  /** Completed in the counting window (confirmed payments, completed jobs, mined transfers). */
  count: number
  perSec: number
  /** Median time from sending an operation until it confirmed or completed, ms (not for raw transfers). */
  p50Ms?: number
  /** Requests refused or failed (not counted); the first one's answer. */
  errors: number
  firstError?: string
}

/**
 * The parties: PAYERS_PER_PROCESS payers launched on each process (so each shard has its own),
 * a payee, and a provider whose offering `echo` is served by `webhook`; the payers funded with dUSD
 * by development account `funderIndex`, and one payment each sent first (the token approval it
 * makes once is not part of the steady state).
 */
export async function launchParties(
  server: ScaleServer,
  parameters: { webhook: string; funderIndex: number },
): Promise<Parties> {
  const { holders } = server
  const payers: Party[] = []
  for (const holder of holders)
    for (let i = 0; i < PAYERS_PER_PROCESS; i++)
      payers.push(await launchOn(server, holder.url, { name: `payer-${holder.shard}-${i}` }))
  const payee = await launchOn(server, holders[0]!.url, { name: 'payee' })
  const provider = await launchOn(server, holders.at(-1)!.url, {
    name: 'provider',
    offerings: [
      {
        name: 'echo',
        description: 'Echoes its input',
        price: AMOUNT,
        token: 'dUSD',
        webhook: parameters.webhook,
      },
    ],
  })
  await fund(server, payers, parameters.funderIndex)
  const parties = { payers, payee, provider }
  await Promise.all(payers.map((payer, i) => payOnce(server, parties, payer, `warm-up-${i}`)))
  return parties
}

async function launchOn(server: ScaleServer, url: string, body: Record<string, unknown>): Promise<Party> {
  const answer = await call(server.token, 'POST', `${url}/agents`, body)
  if (answer.status !== 201) throw new Error(`launching ${body.name}: ${answer.status} ${answer.body.detail}`)
  const { id, chainAgentId, safe, status } = answer.body as Record<string, string>
  if (status !== 'active') throw new Error(`${body.name} is ${status} after its launch answered`)
  return { id: id!, chainAgentId: chainAgentId!, safe: safe as Address, url }
}

async function fund(server: ScaleServer, payers: Party[], funderIndex: number) {
  const { devnet } = server
  const transport = http(devnet.rpcUrl)
  const publicClient = createPublicClient({ chain: devnet.chain, transport })
  const funder = createWalletClient({
    account: privateKeyToAccount(devnet.manifest.accounts[funderIndex]!.privateKey),
    chain: devnet.chain,
    transport,
  })
  for (const payer of payers) {
    const hash = await funder.writeContract({
      address: devnet.manifest.contracts.devUSD,
      abi: devUSDAbi,
      functionName: 'transfer',
      args: [payer.safe, parseUnits('1000', 6)],
    })
    await publicClient.waitForTransactionReceipt({ hash })
  }
}

/** One payment to the payee, sent to the payer's own process; resolves once it is confirmed. */
async function payOnce(server: ScaleServer, parties: Parties, payer: Party, key: string) {
  const base = `${payer.url}/agents/${payer.id}`
  const body = { to: parties.payee.chainAgentId, amount: AMOUNT, idempotencyKey: key }
  const answer = await call(server.token, 'POST', `${base}/pay`, body)
  if (answer.status === 200 && answer.body.status === 'confirmed') return
  // 202: recorded while the chain did not answer; followed until it lands.
  if (answer.status !== 202) throw new Error(`${answer.status} ${answer.body.detail ?? answer.body.title}`)
  await until(async () => {
    const followed = await call(server.token, 'GET', `${base}/payments/${answer.body.id}`)
    return followed.body.status === 'confirmed'
  })
}

/** One job hired from the provider and followed until it ends; resolves when it is `completed`. */
async function jobOnce(server: ScaleServer, parties: Parties, payer: Party, key: string) {
  const body = {
    provider: parties.provider.chainAgentId,
    offering: 'echo',
    input: { text: key },
    maxPrice: AMOUNT,
    idempotencyKey: key,
  }
  const answer = await call(server.token, 'POST', `${payer.url}/agents/${payer.id}/hire`, body)
  if (answer.status !== 202) throw new Error(`${answer.status} ${answer.body.detail ?? answer.body.title}`)
  const jobId = String(answer.body.jobId)
  let status = ''
  // Read from the database, not over HTTP: following every job would load the processes measured.
  await until(async () => {
    const [row] = await server.sql<{ status: string }[]>`select status from jobs where job_id = ${jobId}`
    status = row?.status ?? ''
    return ['completed', 'rejected', 'declined', 'expired', 'failed'].includes(status)
  })
  if (status !== 'completed') throw new Error(`job ${jobId} ended ${status}`)
}

async function until(done: () => Promise<boolean>, ms = 120_000) {
  const deadline = Date.now() + ms
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not done within ${ms / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Keeps IN_FLIGHT operations going (each worker one at a time, on payer `worker % payers`) for
 * WARMUP_SECONDS + `seconds`, and counts those that end well inside the last `seconds`. Workers
 * start no new operation after that; the ones under way are waited for, so the next phase starts
 * on quiet processes.
 */
async function sustain(
  seconds: number,
  payers: Party[],
  operation: (payer: Party, key: string) => Promise<void>,
): Promise<Rate> {
  const from = performance.now() + WARMUP_SECONDS * 1_000
  const to = from + seconds * 1_000
  const rate: Rate = { count: 0, perSec: 0, errors: 0 }
  const run = Date.now().toString(36)
  const took: number[] = []
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, worker) => {
      for (let i = 0; performance.now() < to; i++) {
        const began = performance.now()
        try {
          await operation(payers[worker % payers.length]!, `${run}-${worker}-${i}`)
          const at = performance.now()
          if (at >= from && at <= to) {
            rate.count++
            took.push(at - began)
          }
        } catch (error) {
          rate.errors++
          rate.firstError ??= (error as Error).message
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
    }),
  )
  rate.perSec = round(rate.count / seconds, 1)
  rate.p50Ms = Math.round(
    percentile(
      took.sort((a, b) => a - b),
      0.5,
    ),
  )
  return rate
}

/** Payments confirmed per second: POST /agents/{id}/pay with idempotency keys, to each payer's process. */
export function measurePayments(server: ScaleServer, parties: Parties, seconds: number): Promise<Rate> {
  return sustain(seconds, parties.payers, (payer, key) => payOnce(server, parties, payer, `pay-${key}`))
}

/** Jobs completed per second: hire (create and fund), the provider's webhook delivers, the client completes. */
export function measureJobs(server: ScaleServer, parties: Parties, seconds: number): Promise<Rate> {
  return sustain(seconds, parties.payers, (payer, key) => jobOnce(server, parties, payer, `job-${key}`))
}

/** Transfers each raw sender sends before waiting for their receipts. */
const RAW_BATCH = 20

/**
 * The chain's own rate on the same anvil: plain ERC-20 (dUSD) transfers from `senders` development
 * accounts at once, nonces kept locally (as `npm run bench` sends its raw transfers), counted when
 * their receipts are seen within the window.
 */
export async function measureRawTransfers(
  server: ScaleServer,
  parameters: { senders: Hex[]; to: Address; seconds: number },
): Promise<Rate> {
  const { devnet } = server
  const transport = http(devnet.rpcUrl)
  const publicClient = createPublicClient({ chain: devnet.chain, transport })
  const fees = await publicClient.estimateFeesPerGas()
  const from = performance.now() + WARMUP_SECONDS * 1_000
  const to = from + parameters.seconds * 1_000
  const rate: Rate = { count: 0, perSec: 0, errors: 0 }
  await Promise.all(
    parameters.senders.map(async (key) => {
      const sender = createWalletClient({ account: privateKeyToAccount(key), chain: devnet.chain, transport })
      let nonce = await publicClient.getTransactionCount({ address: sender.account.address })
      while (performance.now() < to) {
        const hashes: Hex[] = []
        for (let i = 0; i < RAW_BATCH; i++)
          hashes.push(
            await sender.writeContract({
              address: devnet.manifest.contracts.devUSD,
              abi: devUSDAbi,
              functionName: 'transfer',
              args: [parameters.to, 1n],
              nonce: nonce++,
              gas: 60_000n,
              ...fees,
            }),
          )
        // In order, one poller per sender: a transfer is mined after the ones before it.
        for (const hash of hashes) {
          await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 5 })
          const at = performance.now()
          if (at >= from && at <= to) rate.count++
        }
      }
    }),
  )
  rate.perSec = round(rate.count / parameters.seconds, 1)
  return rate
}
