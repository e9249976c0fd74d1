import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, createWalletClient, type Hex, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, test } from 'vitest'
import { anvilStateFiles, recoverAnvilState } from './anvil-state.ts'
import { type Devnet, startDevnet } from './devnet.ts'

// Issue 10, finding 2: anvil saved its state only on a clean exit, and wrote it with a plain truncate
// and write: after `kill -9` the chain came back from the last clean stop, and a kill while it wrote
// left a file it refused to load.

const root = mkdtempSync(join(tmpdir(), 'agora-anvil-state-'))
const running: Devnet[] = []
afterAll(async () => {
  await Promise.all(running.map((devnet) => devnet.stop()))
  rmSync(root, { recursive: true, force: true })
})

async function devnetAt(statePath: string, parameters: Parameters<typeof startDevnet>[0] = {}) {
  const devnet = await startDevnet({ statePath, log: () => {}, accounts: 3, ...parameters })
  running.push(devnet)
  const publicClient = createPublicClient({ chain: devnet.chain, transport: http(devnet.rpcUrl) })
  const wallet = createWalletClient({
    account: privateKeyToAccount(devnet.manifest.accounts[1]!.privateKey),
    chain: devnet.chain,
    transport: http(devnet.rpcUrl),
  })
  const send = async (wei: bigint) =>
    publicClient.waitForTransactionReceipt({
      hash: await wallet.sendTransaction({ to: devnet.manifest.accounts[2]!.address, value: wei }),
    })
  const balance = () => publicClient.getBalance({ address: devnet.manifest.accounts[2]!.address })
  return { devnet, publicClient, send, balance }
}

const pidOf = (statePath: string) => Number(readFileSync(anvilStateFiles(statePath).pid, 'utf8'))

describe('anvil state', () => {
  test('behavior: after kill -9 anvil comes back on the same URL with what was saved while it ran', async () => {
    const statePath = join(root, 'killed', 'chain.json')
    const { devnet, send, balance, publicClient } = await devnetAt(statePath, { stateIntervalMs: 200 })
    const before = await balance()
    await send(parseEther('1'))
    // A save after the transfer (every 200 ms while the chain changes), then the kill.
    const saved = () => JSON.parse(readFileSync(statePath, 'utf8')).best_block_number
    const head = await publicClient.getBlockNumber()
    while (!existsSync(statePath) || BigInt(saved()) < head) await new Promise((r) => setTimeout(r, 50))
    const pid = pidOf(statePath)
    process.kill(pid, 'SIGKILL')
    // Restarted by the devnet on the same port, from the saved state.
    let after: bigint | undefined
    while (after === undefined) {
      await new Promise((r) => setTimeout(r, 50))
      const restarted = existsSync(anvilStateFiles(statePath).pid) && pidOf(statePath) !== pid
      if (restarted) after = await balance().catch(() => undefined)
    }
    expect(after).toBe(before + parseEther('1'))
    expect(devnet.rpcUrl).toBe(devnet.manifest.rpcUrl)
  })

  test('behavior: an exit save cut short by a kill is dropped; a complete newer one is taken over', () => {
    const statePath = join(root, 'partial', 'chain.json')
    const files = anvilStateFiles(statePath)
    const state = (block: number) =>
      JSON.stringify({ best_block_number: `0x${block.toString(16)}`, blocks: [] })
    rmSync(join(root, 'partial'), { recursive: true, force: true })
    mkdirSync(join(root, 'partial'))
    writeFileSync(files.state, state(10))
    writeFileSync(files.exit, state(12).slice(0, 20)) // anvil was killed while writing it
    writeFileSync(files.temporary, 'half')
    recoverAnvilState(statePath)
    expect(JSON.parse(readFileSync(statePath, 'utf8')).best_block_number).toBe('0xa')
    expect(existsSync(files.exit) || existsSync(files.temporary)).toBe(false)
    writeFileSync(files.exit, state(12))
    recoverAnvilState(statePath)
    expect(JSON.parse(readFileSync(statePath, 'utf8')).best_block_number).toBe('0xc')
  })

  test('behavior: an anvil left running by a killed process is stopped, and its chain resumed', async () => {
    const statePath = join(root, 'orphan', 'chain.json')
    // A process that starts the devnet and is then killed: its anvil lives on.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { startDevnet } from ${JSON.stringify(join(import.meta.dirname, 'devnet.ts'))}
         const devnet = await startDevnet({ statePath: ${JSON.stringify(statePath)}, accounts: 3, log: () => {} })
         console.log(devnet.rpcUrl)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const rpcUrl = await new Promise<string>((resolve) =>
      child.stdout!.on('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
    )
    child.kill('SIGKILL')
    const orphan = pidOf(statePath)
    // The chain moves on in the orphan, after any save its parent made.
    const wallet = createWalletClient({
      account: privateKeyToAccount(
        '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as Hex,
      ),
      transport: http(rpcUrl),
    })
    const orphanClient = createPublicClient({ transport: http(rpcUrl) })
    await orphanClient.waitForTransactionReceipt({
      hash: await wallet.sendTransaction({
        to: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
        value: parseEther('2'),
        chain: null,
      }),
    })
    const expected = await orphanClient.getBalance({ address: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' })
    const { balance } = await devnetAt(statePath)
    expect(() => process.kill(orphan, 0)).toThrow()
    expect(await balance()).toBe(expected)
  })
})
