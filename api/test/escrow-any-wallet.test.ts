import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { agentEconomyAbi, type Devnet, devUSDAbi, jobIdOf } from '@agora/contracts'
import { type EmbeddedRuntime, jobInputMessage, jobReadMessage, specHashOf } from '@agora/runtime'
import { createPublicClient, createWalletClient, http, parseUnits, zeroAddress } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { serveTestApi } from './harness.ts'
import { upperAgent } from './upper-agent.ts'

const script = fileURLToPath(new URL('../../docs/examples/hire-with-viem.mjs', import.meta.url))

let embedded: EmbeddedRuntime
let devnet: Devnet
let baseUrl: string
let served: Awaited<ReturnType<typeof serveTestApi>>
let provider: string
const account = (i: number) => privateKeyToAccount(devnet.manifest.accounts[i]!.privateKey)
const publicClient = () => createPublicClient({ chain: devnet.chain, transport: http(devnet.rpcUrl) })

/** A signed read of a job by development account `i` (the headers a wallet sends instead of a session). */
async function signedRead(jobId: string, i: number, timestamp = String(Math.floor(Date.now() / 1_000))) {
  const reader = account(i)
  return fetch(`${baseUrl}/jobs/${jobId}`, {
    headers: {
      'agora-address': reader.address,
      'agora-timestamp': timestamp,
      'agora-signature': await reader.signMessage({ message: jobReadMessage(jobId, timestamp) }),
    },
  })
}

function putInput(jobId: string, body: Record<string, unknown>) {
  return fetch(`${baseUrl}/jobs/${jobId}/input`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

beforeAll(async () => {
  served = await serveTestApi([upperAgent])
  ;({ embedded, devnet, baseUrl } = served)
  provider = (await (await embedded.runtime.launch(upperAgent, { owner: account(2).address })).info())
    .chainAgentId!
}, 120_000)

afterAll(async () => {
  await served?.stop()
})

describe('escrow jobs from any wallet', () => {
  test('the docs script hires, reads the deliverable and completes the job with viem alone', async () => {
    const client = account(7)
    await served.fund(client.address, '10')
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      env: {
        ...process.env,
        API_URL: baseUrl,
        RPC_URL: devnet.rpcUrl,
        PRIVATE_KEY: devnet.manifest.accounts[7]!.privateKey,
        PROVIDER: provider,
        OFFERING: 'upper',
        INPUT: JSON.stringify({ text: 'from any wallet' }),
        ECONOMY: devnet.manifest.contracts.economy,
      },
      timeout: 90_000,
    })
    expect(stdout).toContain('# input handed over: awaiting funding')
    expect(stdout).toContain('# deliverable: {"text":"FROM ANY WALLET"}')
    const jobId = /# job (\d+) completed/.exec(stdout)?.[1]
    expect(jobId).toBeDefined()
    // The completion reaches the runtime through its indexer; the provider's record counts it.
    await expect
      .poll(async () => (await embedded.runtime.getJob(jobId!)).status, { timeout: 20_000 })
      .toBe('completed')
    expect((await embedded.runtime.getReputation(provider)).completed).toBeGreaterThanOrEqual(1)

    // A stranger's signed read shows the public facts only; a forged one is refused.
    const stranger = await (await signedRead(jobId!, 8)).json()
    expect(stranger).toMatchObject({ status: 'completed', input: null, deliverable: null })
    const anonymous = await (await fetch(`${baseUrl}/jobs/${jobId}`)).json()
    expect(anonymous).toMatchObject({ input: null, deliverable: null })
    const mine = await (await signedRead(jobId!, 7)).json()
    expect(mine).toMatchObject({
      input: { text: 'from any wallet' },
      deliverable: { text: 'FROM ANY WALLET' },
    })
    const forged = await fetch(`${baseUrl}/jobs/${jobId}`, {
      headers: {
        'agora-address': account(7).address,
        'agora-timestamp': String(Math.floor(Date.now() / 1_000)),
        'agora-signature': await account(8).signMessage({ message: jobReadMessage(jobId!, '1') }),
      },
    })
    expect(forged.status).toBe(403)
    const stale = await signedRead(jobId!, 7, String(Math.floor(Date.now() / 1_000) - 3_600))
    expect(stale.status).toBe(403)
  })

  test('an input handed over after funding is served; a mismatched or unsigned one is refused', async () => {
    const client = account(7)
    const wallet = createWalletClient({
      account: client,
      chain: devnet.chain,
      transport: http(devnet.rpcUrl),
    })
    const spec = { offering: 'upper', input: { text: 'late' }, provider, nonce: 'late-1' }
    const specHash = specHashOf(spec)
    const jobId = jobIdOf(client.address, BigInt(provider), specHash).toString()
    const price = parseUnits('1', 6)
    await publicClient().waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: devnet.manifest.contracts.devUSD,
        abi: devUSDAbi,
        functionName: 'approve',
        args: [devnet.manifest.contracts.economy, price],
      }),
    })
    const deadline = (await publicClient().getBlock()).timestamp + 3_600n
    await publicClient().waitForTransactionReceipt({
      hash: await wallet.writeContract({
        address: devnet.manifest.contracts.economy,
        abi: agentEconomyAbi,
        functionName: 'createJob',
        args: [BigInt(provider), zeroAddress, devnet.manifest.contracts.devUSD, price, deadline, specHash],
      }),
    })
    await expect
      .poll(async () => (await embedded.runtime.getJob(jobId).catch(() => null))?.status)
      .toBe('funded')
    const signature = await client.signMessage({ message: jobInputMessage(jobId, specHash) })
    // Another input for this job: it does not hash to it.
    const other = await putInput(jobId, {
      ...spec,
      input: { text: 'swapped' },
      client: client.address,
      signature,
    })
    expect(other.status).toBe(400)
    expect(((await other.json()) as { detail: string }).detail).toContain('is not job')
    // Signed by someone else.
    const stranger = await account(8).signMessage({ message: jobInputMessage(jobId, specHash) })
    expect((await putInput(jobId, { ...spec, client: client.address, signature: stranger })).status).toBe(403)
    // Not the offering's input shape (it hashes to its own job, which it does not fit).
    const badSpec = { ...spec, input: { text: 42 } }
    const badId = jobIdOf(client.address, BigInt(provider), specHashOf(badSpec)).toString()
    const bad = await putInput(badId, {
      ...badSpec,
      client: client.address,
      signature: await client.signMessage({ message: jobInputMessage(badId, specHashOf(badSpec)) }),
    })
    expect(bad.status).toBe(400)
    // The right one: served at once.
    const handed = await putInput(jobId, { ...spec, client: client.address, signature })
    expect(await handed.json()).toMatchObject({ jobId, specHash, status: 'funded' })
    await expect
      .poll(async () => (await embedded.runtime.getJob(jobId)).status, { timeout: 20_000 })
      .toBe('submitted')
    expect((await embedded.runtime.getJob(jobId)).deliverable).toEqual({ text: 'LATE' })
    // Handing it over again changes nothing.
    expect((await putInput(jobId, { ...spec, client: client.address, signature })).status).toBe(200)
  })
})
