import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
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
  const { port = 0, statePath, accounts = 20, chainId = 31337 } = parameters
  const binary = anvilBinary()
  const args = [
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
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const listening = await waitForListening(child)
  const rpcUrl = `http://127.0.0.1:${listening}`
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
    port: listening,
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

function waitForListening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = ''
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = output.match(/Listening on [^\s:]+:(\d+)\s/)
      if (match) {
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        child.stderr?.resume()
        resolve(Number(match[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('error', (error) => reject(new Error(`anvil could not start: ${error.message}`)))
    child.once('exit', (code) =>
      reject(new Error(`anvil exited with code ${code} before listening:\n${output.slice(-2000)}`)),
    )
  })
}
