/**
 * Throughput and latency of the runtime on one devnet, beside the chain's own limit:
 * raw EOA ETH transfers with viem, direct agent payments and full jobs through the runtime, and
 * launch latency. `npm run bench` prints a table; `npm run bench -- --json` prints one JSON object;
 * `npm run bench -- --profile DIR` also writes CPU profiles of the payments and jobs phases;
 * `--jobs N` sets the jobs each client hires at once (default 10), `--max-batch N` the batch size of
 * the jobs phase (default 16).
 */
import { devUSDAbi, startDevnet } from '@agora/contracts'
import { createDb } from '@agora/db'
import { createTemporaryDatabase } from '@agora/db/testing'
import { createPublicClient, createWalletClient, http, parseEther, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { z } from 'zod'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { AgentHandle } from '../src/runtime.ts'

const json = process.argv.includes('--json')
const say = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`)
}
/** `--name N`: a whole number given on the command line, or `fallback`. */
function countFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  if (at < 0) return fallback
  const value = Number(process.argv[at + 1])
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(
      `--${name} takes a whole number of at least 1, got "${process.argv[at + 1] ?? ''}"\n`,
    )
    process.exit(2)
  }
  return value
}
const RAW_TRANSFERS = 800
const PAYERS = 8
const PAYMENTS_PER_PAYER = 50
/** `--jobs N`: full jobs each client hires at once (default 10). */
const JOBS_PER_CLIENT = countFlag('jobs', 10)
/** `--max-batch N`: the most calls of one Safe in one transaction (the runtime's default 16). */
const MAX_BATCH = process.argv.includes('--max-batch') ? countFlag('max-batch', 16) : undefined
const LAUNCHES = 7

/** `--profile DIR`: a CPU profile of the payments phase, written to DIR (open it in Chrome DevTools). */
async function startProfile() {
  const at = process.argv.indexOf('--profile')
  if (at < 0) return undefined
  const dir = process.argv[at + 1] ?? '.'
  const { Session } = await import('node:inspector/promises')
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return {
    async stop(name: string) {
      const { profile } = await session.post('Profiler.stop')
      const { mkdir, writeFile } = await import('node:fs/promises')
      await mkdir(dir, { recursive: true })
      const file = `${dir}/${name}.cpuprofile`
      await writeFile(file, JSON.stringify(profile))
      say(`profile: ${file}`)
      session.disconnect()
    },
  }
}

const devnet = await startDevnet({ log: say, accounts: 30 })
// Postgres when DATABASE_URL is set (a temporary database), embedded PGlite otherwise.
const temporary = process.env.DATABASE_URL ? await createTemporaryDatabase() : undefined
const database = await createDb(temporary ? { url: temporary.url } : {})
try {
  const transport = http(devnet.rpcUrl)
  const publicClient = createPublicClient({ chain: devnet.chain, transport })
  const keys = devnet.manifest.accounts.map((a) => a.privateKey)

  // 1. The chain's limit: plain ETH transfers from several accounts at once, nonces kept locally.
  say(`raw: ${RAW_TRANSFERS} ETH transfers from ${PAYERS} accounts...`)
  const senders = keys.slice(20, 20 + PAYERS).map((key) =>
    createWalletClient({
      account: privateKeyToAccount(key as `0x${string}`),
      chain: devnet.chain,
      transport,
    }),
  )
  const fees = await publicClient.estimateFeesPerGas()
  const rawStart = performance.now()
  await Promise.all(
    senders.map(async (sender) => {
      let nonce = await publicClient.getTransactionCount({ address: sender.account.address })
      const hashes: `0x${string}`[] = []
      for (let i = 0; i < RAW_TRANSFERS / PAYERS; i++) {
        hashes.push(
          await sender.sendTransaction({
            to: devnet.manifest.accounts[1]!.address,
            value: 1n,
            nonce: nonce++,
            gas: 21_000n,
            ...fees,
          }),
        )
      }
      for (const hash of hashes) await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 5 })
    }),
  )
  const rawTransfersPerSec = RAW_TRANSFERS / ((performance.now() - rawStart) / 1_000)

  // 2. The runtime, with its relayers, on PGlite.
  const provider = defineAgent({
    name: 'bench-provider',
    offerings: [
      {
        name: 'noop',
        description: 'Returns its input',
        price: '0.01',
        token: 'dUSD',
        input: z.object({ n: z.number() }),
        handler: ({ n }) => ({ n }),
      },
    ],
  })
  // Payers run with a spending policy, as agents should: every payment is checked against it.
  const clients = Array.from({ length: PAYERS }, (_, i) =>
    defineAgent({
      name: `bench-client-${i}`,
      policy: { perJobCap: '5', budget: { amount: '900', period: 'day' } },
    }),
  )
  /**
   * A runtime on the bench's database. Each phase opens its own once the last one is stopped: every
   * runtime starts from the chain's and the database's state, as after a restart.
   */
  const openRuntime = async (maxBatch?: number) => {
    const opened = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db: database.db,
      masterKey: new Uint8Array(32).fill(7),
      relayerKeys: keys.slice(10, 20),
      definitions: [provider, ...clients],
      maxBatch,
      // One owner launches and pays for the whole bench: far past any per-owner quota.
      quotas: false,
      log: () => {},
    })
    await opened.start()
    return opened
  }
  const runtime = await openRuntime()
  const owner = devnet.manifest.accounts[1]!

  say(`launch: ${LAUNCHES} agents one after another...`)
  const launchTimes: number[] = []
  const providerHandle = await runtime.launch(provider, { owner: owner.address })
  for (let i = 0; i < LAUNCHES; i++) {
    const started = performance.now()
    await runtime.launch(defineAgent({ name: `bench-launch-${i}` }), { owner: owner.address })
    launchTimes.push(performance.now() - started)
  }
  launchTimes.sort((a, b) => a - b)
  const launchMs = launchTimes[Math.floor(launchTimes.length / 2)]!

  const payers = await Promise.all(clients.map((c) => runtime.launch(c, { owner: owner.address })))
  const ownerWallet = createWalletClient({
    account: privateKeyToAccount(owner.privateKey),
    chain: devnet.chain,
    transport,
  })
  for (const payer of payers) {
    const safe = (await payer.info()).safe as `0x${string}`
    await publicClient.waitForTransactionReceipt({
      hash: await ownerWallet.writeContract({
        address: devnet.manifest.contracts.devUSD,
        abi: devUSDAbi,
        functionName: 'transfer',
        args: [safe, parseUnits('1000', 6)],
      }),
    })
    await ownerWallet.sendTransaction({ to: safe, value: parseEther('1') })
  }
  const providerId = (await providerHandle.info()).chainAgentId!
  // One payment each first: the one-time token approval is not part of the steady state measured.
  await Promise.all(payers.map((p) => p.pay({ to: providerId, amount: '0.01' })))

  /** Every payer pays the provider PAYMENTS_PER_PAYER times at once; the rate, and the transactions used. */
  async function payAll(handles: Pick<AgentHandle, 'pay'>[]) {
    const started = performance.now()
    const paid = await Promise.all(
      handles.map((payer) =>
        Promise.all(
          Array.from({ length: PAYMENTS_PER_PAYER }, () => payer.pay({ to: providerId, amount: '0.01' })),
        ),
      ),
    )
    const perSec = (PAYERS * PAYMENTS_PER_PAYER) / ((performance.now() - started) / 1_000)
    return { perSec, hashes: new Set(paid.flat().map((p) => p.txHash as `0x${string}`)) }
  }
  /** Gas per payment: every transaction's gas, shared by the payments it carried. */
  async function gasPerPayment(hashes: Set<`0x${string}`>) {
    let total = 0n
    for (const hash of hashes) total += (await publicClient.getTransactionReceipt({ hash })).gasUsed
    return Number(total / BigInt(PAYERS * PAYMENTS_PER_PAYER))
  }
  const providerSafe = (await providerHandle.info()).safe as `0x${string}`
  const balanceBefore = await publicClient.readContract({
    address: devnet.manifest.contracts.devUSD,
    abi: devUSDAbi,
    functionName: 'balanceOf',
    args: [providerSafe],
  })

  await runtime.stop()

  // The same payments twice, each on a fresh runtime: every one in its own transaction, then with a
  // Safe's queued payments batched (the default).
  say(`payments, one transaction each: ${PAYERS} agents x ${PAYMENTS_PER_PAYER} payments...`)
  const single = await openRuntime(1)
  const unbatched = await payAll(payers.map((p) => single.agent(p.id)))
  await single.stop()

  say(`payments: ${PAYERS} agents x ${PAYMENTS_PER_PAYER} payments...`)
  const main = await openRuntime(MAX_BATCH)
  const profiler = await startProfile()
  const batched = await payAll(payers.map((p) => main.agent(p.id)))
  const paymentsPerSec = batched.perSec
  await profiler?.stop('payments')
  // Every payment landed, once: the provider holds exactly what was paid (net of nothing: no fee on pay).
  const received =
    (await publicClient.readContract({
      address: devnet.manifest.contracts.devUSD,
      abi: devUSDAbi,
      functionName: 'balanceOf',
      args: [providerSafe],
    })) - balanceBefore
  const expected = parseUnits('0.01', 6) * BigInt(2 * PAYERS * PAYMENTS_PER_PAYER)
  if (received !== expected) throw new Error(`the provider received ${received}, not ${expected}`)

  say(`jobs: ${PAYERS} clients x ${JOBS_PER_CLIENT} full jobs (create, deliver, submit, complete)...`)
  const jobProfiler = await startProfile()
  const jobStart = performance.now()
  await Promise.all(
    payers.flatMap(({ id }) =>
      Array.from({ length: JOBS_PER_CLIENT }, async (_, n) => {
        const payer = main.agent(id)
        const job = await payer.hire({ provider: providerId, offering: 'noop', input: { n } })
        const done = await job.done()
        if (done.status !== 'completed') throw new Error(`job ${done.jobId} ended ${done.status}`)
      }),
    ),
  )
  const jobsPerSec = (PAYERS * JOBS_PER_CLIENT) / ((performance.now() - jobStart) / 1_000)
  await jobProfiler?.stop('jobs')
  await main.stop()

  const result = {
    rawTransfersPerSec: Math.round(rawTransfersPerSec),
    paymentsPerSec: Math.round(paymentsPerSec),
    paymentTransactions: batched.hashes.size,
    gasPerPayment: {
      batched: await gasPerPayment(batched.hashes),
      single: await gasPerPayment(unbatched.hashes),
    },
    paymentsUnbatchedPerSec: Math.round(unbatched.perSec),
    jobsPerSec: Math.round(jobsPerSec * 10) / 10,
    launchMs: Math.round(launchMs),
    paymentsRatio: Math.round((paymentsPerSec / rawTransfersPerSec) * 100) / 100,
    paymentsUnbatchedRatio: Math.round((unbatched.perSec / rawTransfersPerSec) * 100) / 100,
    jobsRatio: Math.round((jobsPerSec / rawTransfersPerSec) * 1000) / 1000,
    target: { paymentsRatio: 0.5 },
    setup: {
      rawTransfers: RAW_TRANSFERS,
      payers: PAYERS,
      payments: PAYERS * PAYMENTS_PER_PAYER,
      jobs: PAYERS * JOBS_PER_CLIENT,
      launches: LAUNCHES,
      database: database.kind,
      policy: 'perJobCap 5 dUSD, budget 900 dUSD per day',
    },
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } else {
    const row = (name: string, value: string, note = '') =>
      console.log(`${name.padEnd(34)} ${value.padStart(10)}  ${note}`)
    row('raw EOA ETH transfers (viem)', `${result.rawTransfersPerSec}/s`, 'the chain on this machine')
    row(
      'agent payments (runtime, Safe)',
      `${result.paymentsPerSec}/s`,
      `${result.paymentsRatio}x raw (target >= 0.5x); ${result.setup.payments} payments in ${result.paymentTransactions} transactions`,
    )
    row(
      '  the same, one transaction each',
      `${result.paymentsUnbatchedPerSec}/s`,
      `${result.paymentsUnbatchedRatio}x raw (batching off: maxBatch 1)`,
    )
    row(
      'gas per payment (Safe, relayer)',
      `${result.gasPerPayment.batched}`,
      `batched; ${result.gasPerPayment.single} one transaction each`,
    )
    row('full jobs (runtime, 4 txs each)', `${result.jobsPerSec}/s`, `${result.jobsRatio}x raw`)
    row('launch latency (median)', `${result.launchMs} ms`, 'identity + TBA + Safe, one transaction')
    console.log(
      `(database: ${database.kind}; ${result.setup.payments} payments, ${result.setup.jobs} jobs; payers' policy: ${result.setup.policy})`,
    )
  }
} finally {
  await database.close()
  await temporary?.drop()
  await devnet.stop()
}
