import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { join } from 'node:path'
import { devMnemonic } from '@agora/contracts'
import { mnemonicToAccount } from 'viem/accounts'
import { createSiweMessage } from 'viem/siwe'

const main = join(import.meta.dirname, '..', 'src', 'main.ts')

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export type NpmStartOptions = {
  dataDir: string
  port: number
  devnetPort: number
  databaseUrl?: string
  /** The demo client hiring the demo agents (default off: the tests count what they do themselves). */
  demoTrading?: boolean
}

/**
 * `npm start` (the API's `src/main.ts`, embedded mode) as a child process a test can kill: the
 * devnet's anvil is its child, and its pid is in the data directory.
 */
export function npmStart(options: NpmStartOptions) {
  const { dataDir, port, devnetPort, databaseUrl, demoTrading = false } = options
  const url = `http://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  let output = ''
  const statePath = join(dataDir, 'devnet', 'chain.json')
  return {
    url,
    get output() {
      return output
    },
    /** Starts the process; resolves once `/health` answers (ok or degraded), or rejects after `ms`. */
    async start(ms = 120_000) {
      output = ''
      child = spawn(process.execPath, ['--import', 'tsx', main], {
        env: {
          ...process.env,
          AGORA_DATA_DIR: dataDir,
          PORT: String(port),
          DEVNET_PORT: String(devnetPort),
          PUBLIC_URL: url,
          AGORA_DEMO_TRADING: demoTrading ? 'on' : 'off',
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: '' }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-20_000)
      }
      child.stdout!.on('data', keep)
      child.stderr!.on('data', keep)
      const deadline = Date.now() + ms
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`)
        const health = await fetch(`${url}/health`).catch(() => undefined)
        if (health) return
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error(`npm start did not listen within ${ms} ms:\n${output}`)
    },
    /** SIGKILL, no clean-up: what a crash does. */
    async kill() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child!.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
    /** SIGTERM: a clean stop, which saves the chain. */
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child!.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
    /** Stops the process cleanly and any anvil a kill left behind on this data directory. */
    async shutdown() {
      await this.stop()
      const pid = this.anvilPid()
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    },
    /** The devnet's anvil now serving this data directory, from its pid file. */
    anvilPid(): number | undefined {
      const pidFile = `${statePath}.pid`
      return existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined
    },
    manifest() {
      return JSON.parse(readFileSync(`${statePath}.manifest.json`, 'utf8')) as {
        contracts: { economy: `0x${string}`; devUSD: `0x${string}`; factory: `0x${string}` }
        accounts: { address: `0x${string}`; privateKey: `0x${string}` }[]
      }
    },
  }
}

export type NpmStart = ReturnType<typeof npmStart>

/** Signs development account `index` in over HTTP (Sign-In with Ethereum); resolves with its bearer token. */
export async function signIn(url: string, index: number): Promise<string> {
  const account = mnemonicToAccount(devMnemonic, { addressIndex: index })
  const issued = (await (await fetch(`${url}/auth/nonce`)).json()) as {
    nonce: string
    domain: string
    uri: string
    chainId: number
  }
  const message = createSiweMessage({
    domain: issued.domain,
    address: account.address,
    uri: issued.uri,
    version: '1',
    chainId: issued.chainId,
    nonce: issued.nonce,
    issuedAt: new Date(),
    expirationTime: new Date(Date.now() + 60 * 60_000),
  })
  const response = await fetch(`${url}/auth/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message, signature: await account.signMessage({ message }) }),
  })
  const body = (await response.json()) as { token?: string; detail?: string }
  if (!body.token) throw new Error(`sign-in failed (${response.status}): ${body.detail}`)
  return body.token
}
