import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { type AddressInfo, createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { type Chain, defineChain, type Hex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'

/** The mnemonic anvil derives its funded development accounts from. Public: devnet only. */
export const devMnemonic = 'test test test test test test test test test test test junk'

export type StartAnvilParameters = {
  /** TCP port; a free one is chosen when omitted. */
  port?: number
  /** File anvil loads its state from at start and writes back when stopped. */
  statePath?: string
  /** Funded development accounts to create (default 20). */
  accounts?: number
  /** Chain id (default 31337). */
  chainId?: number
}

export type Anvil = {
  rpcUrl: string
  port: number
  chain: Chain
  /** Private keys of the funded development accounts, in anvil's order. */
  privateKeys: readonly Hex[]
  /** Stops anvil, waiting until it has written its state file. */
  stop(): Promise<void>
}

function anvilBinary(): string {
  const require = createRequire(import.meta.url)
  const platform = process.platform === 'win32' ? 'win32' : process.platform
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${platform}-${arch}/package.json`)
    const bin = join(dirname(pkg), 'bin', platform === 'win32' ? 'anvil.exe' : 'anvil')
    if (existsSync(bin)) return bin
  } catch {
    // fall through to the launcher script, which finds the binary itself
  }
  return require.resolve('@foundry-rs/anvil/bin.mjs')
}

/**
 * Starts anvil (from the `@foundry-rs/anvil` npm package) and resolves once it accepts requests.
 *
 * @example
 * const anvil = await startAnvil()
 * // ... use anvil.rpcUrl
 * await anvil.stop()
 */
export async function startAnvil(parameters: StartAnvilParameters = {}): Promise<Anvil> {
  const { statePath, accounts = 20, chainId = 31337 } = parameters
  const port = parameters.port || (await freePort())
  const binary = anvilBinary()
  // Quiet: anvil would otherwise log every request, costing both processes time under load.
  const args = [
    '--quiet',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--accounts',
    String(accounts),
    '--chain-id',
    String(chainId),
    '--mnemonic',
    devMnemonic,
  ]
  if (statePath) args.push('--state', statePath)
  const command = binary.endsWith('.mjs') ? process.execPath : binary
  const child = spawn(command, binary.endsWith('.mjs') ? [binary, ...args] : args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const rpcUrl = `http://127.0.0.1:${port}`
  await waitUntilServing(child, rpcUrl)
  const chain = defineChain({
    id: chainId,
    name: 'Agora devnet',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    testnet: true,
  })
  const privateKeys = Array.from({ length: accounts }, (_, addressIndex) => {
    const key = mnemonicToAccount(devMnemonic, { addressIndex }).getHdKey().privateKey!
    return `0x${Buffer.from(key).toString('hex')}` as Hex
  })
  let stopped: Promise<void> | undefined
  return {
    rpcUrl,
    port,
    chain,
    privateKeys,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
      return stopped
    },
  }
}

/** A TCP port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once anvil answers JSON-RPC; rejects with its output if it exits first or takes over 30 s. */
async function waitUntilServing(child: ChildProcess, rpcUrl: string): Promise<void> {
  let output = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000)
  })
  let exited: string | undefined
  child.once('error', (error) => {
    exited = `anvil could not start: ${error.message}`
  })
  child.once('exit', (code) => {
    exited = `anvil exited with code ${code} before serving:\n${output}`
  })
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (exited) throw new Error(exited)
    try {
      const response = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
      })
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  child.kill('SIGKILL')
  throw new Error(`anvil did not answer at ${rpcUrl} within 30 s:\n${output}`)
}
