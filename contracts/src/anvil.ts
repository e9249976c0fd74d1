import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { type AddressInfo, createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { type Chain, defineChain, type Hex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import {
  type AnvilStateFile,
  anvilStateFiles,
  recoverAnvilState,
  tornAnvilState,
  unpackAnvilDump,
  writeAnvilState,
} from './anvil-state.ts'

/** The mnemonic anvil derives its funded development accounts from. Public: devnet only. */
export const devMnemonic = 'test test test test test test test test test test test junk'

export type StartAnvilParameters = {
  /** TCP port; a free one is chosen when omitted. */
  port?: number
  /**
   * File anvil loads its state from at start and that holds it between runs: saved when anvil stops,
   * and while it runs once `saveState` is called (see `anvil-state.ts` for how it survives a kill).
   */
  statePath?: string
  /** Funded development accounts to create (default 20). */
  accounts?: number
  /** Chain id (default 31337). */
  chainId?: number
  /** Where an unexpected exit of anvil and its restart are reported (default: standard error). */
  log?: (line: string) => void
}

export type Anvil = {
  rpcUrl: string
  port: number
  chain: Chain
  /** Private keys of the funded development accounts, in anvil's order. */
  privateKeys: readonly Hex[]
  /** The anvil process now serving (a new one after anvil died and was restarted). */
  readonly pid: number | undefined
  /**
   * With `statePath`: saves the chain's state every `everyMs` while it changes (less often when a
   * save takes longer than a tenth of that), atomically, so a `kill -9` of anvil (or of everything)
   * loses at most that much of the chain. A dump torn by a block mined while anvil took it is not
   * saved (the next round's is): loaded, it would have lost that block's transactions for good.
   */
  saveState(everyMs: number): void
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
 * With `statePath`, an anvil a killed process left running on that state is stopped first (it saves
 * its state as it goes), the newest complete state is loaded, and an anvil that dies is restarted
 * from its saved state on the same port.
 *
 * @example
 * const anvil = await startAnvil()
 * // ... use anvil.rpcUrl
 * await anvil.stop()
 */
export async function startAnvil(parameters: StartAnvilParameters = {}): Promise<Anvil> {
  const { statePath, accounts = 20, chainId = 31337 } = parameters
  const log = parameters.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const port = parameters.port || (await freePort())
  const files = statePath ? anvilStateFiles(statePath) : undefined
  if (statePath && files) {
    await stopLeftover(files.pid, statePath, log)
    recoverAnvilState(statePath, log)
  }
  const rpcUrl = `http://127.0.0.1:${port}`
  let child = await spawnAnvil({ port, accounts, chainId, statePath })
  let stopping = false
  let saver: ReturnType<typeof setInterval> | undefined
  let saving: Promise<void> | undefined
  let restarting: Promise<void> | undefined
  const supervise = (process: ChildProcess) =>
    process.once('exit', (code, signal) => {
      if (stopping || !statePath) return
      log(`devnet: anvil exited (${signal ?? `code ${code}`}); restarting it from its saved state`)
      restarting = restart().finally(() => {
        restarting = undefined
      })
    })
  const restart = async () => {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        recoverAnvilState(statePath!, log)
        child = await spawnAnvil({ port, accounts, chainId, statePath })
        // Stopped while it started: `stop()` waits for this and stops the new one.
        if (!stopping) supervise(child)
        return
      } catch (error) {
        log(`devnet: restarting anvil failed (${(error as Error).message.split('\n')[0]}); trying again`)
        await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2_000)))
      }
    }
  }
  supervise(child)
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
    get pid() {
      return child.pid
    },
    saveState(everyMs) {
      if (!statePath || saver) return
      const saved: SaveRounds = {}
      // A long history makes each save slower: rounds are skipped so saving takes a tenth of the time at most.
      let resumeAt = 0
      saver = setInterval(() => {
        if (saving || stopping || Date.now() < resumeAt) return
        const started = Date.now()
        saving = saveStateOnce(rpcUrl, statePath, saved, log)
          .then(() => {
            resumeAt = Date.now() + 9 * (Date.now() - started)
          })
          .catch(() => {}) // anvil is down or busy: the next round saves it
          .finally(() => {
            saving = undefined
          })
      }, everyMs)
      saver.unref?.()
    },
    stop() {
      stopped ??= (async () => {
        stopping = true
        if (saver) clearInterval(saver)
        await saving
        await restarting
        await new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGTERM')
        })
        if (statePath && files) {
          recoverAnvilState(statePath) // what anvil saved on its way out becomes the state
          rmSync(files.pid, { force: true })
        }
      })()
      return stopped
    },
  }
}

/**
 * Past blocks whose state anvil keeps (for calls at an older block): far deeper than any reorg the
 * indexer or a test makes, and bounded in memory (each is a copy of the whole state).
 */
const HISTORY_STATES = 32

/** Spawns anvil and resolves once it serves; with a state path it loads it and records its pid. */
async function spawnAnvil(options: {
  port: number
  accounts: number
  chainId: number
  statePath: string | undefined
}): Promise<ChildProcess> {
  const { port, accounts, chainId, statePath } = options
  // Quiet: anvil would otherwise log every request, costing both processes time under load.
  // History pruned to the last HISTORY_STATES blocks, kept in memory: by default anvil writes the
  // whole state of every older block to ~/.foundry/anvil/tmp as JSON, which filled a 79 GB disk
  // during a 10,000-agent launch (about 20 MB a block by then) and is left behind when it is killed.
  const args = [
    '--quiet',
    '--prune-history',
    String(HISTORY_STATES),
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
  if (statePath) {
    const files = anvilStateFiles(statePath)
    if (existsSync(files.state)) args.push('--load-state', files.state)
    args.push('--dump-state', files.exit)
  }
  const binary = anvilBinary()
  const command = binary.endsWith('.mjs') ? process.execPath : binary
  const child = spawn(command, binary.endsWith('.mjs') ? [binary, ...args] : args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  await waitUntilServing(child, `http://127.0.0.1:${port}`)
  if (statePath) writeFileSync(anvilStateFiles(statePath).pid, String(child.pid))
  return child
}

/**
 * What the rounds of saving remember: the head last saved, the mismatch a skipped dump had, and how
 * many rounds in a row were skipped.
 */
export type SaveRounds = { savedAt?: string; torn?: string; skipped?: number }

/** Rounds in a row whose dumps all read as torn before one is saved anyway. */
const mostSkipped = 5

/**
 * Saves anvil's state if its chain moved since the head last saved (a block hash). A torn dump (see
 * `tornAnvilState`: a block mined while anvil dumped) is skipped, and the next round takes a whole
 * one. The same mismatch twice at the same head is no tear (no block came between the two dumps) but
 * something the check does not know (an account given a nonce without a transaction): that state is
 * saved as it is, and so is the last of `mostSkipped` dumps in a row that all read as torn (a chain
 * that moves every round would otherwise never be saved again). Resolves with the head saved, if one was.
 */
export async function saveStateOnce(
  rpcUrl: string,
  statePath: string,
  rounds: SaveRounds,
  log: (line: string) => void,
) {
  const head = await rpc<{ hash: string }>(rpcUrl, 'eth_getBlockByNumber', ['latest', false])
  if (head.hash === rounds.savedAt) return
  const json = await unpackAnvilDump(await rpc<`0x${string}`>(rpcUrl, 'anvil_dumpState', []))
  const state = JSON.parse(json) as AnvilStateFile
  const torn = tornAnvilState(state)
  if (torn) {
    const seen = `${state.best_block_number}: ${torn}`
    const skipped = (rounds.skipped ?? 0) + 1
    if (rounds.torn !== seen && skipped < mostSkipped) {
      Object.assign(rounds, { torn: seen, skipped })
      return
    }
    log(
      `devnet: anvil's state at block ${Number(state.best_block_number)} does not add up (${torn}) ` +
        `${skipped < mostSkipped ? 'twice alike' : `${skipped} times in a row`}; saving it as it is`,
    )
  }
  Object.assign(rounds, { torn: undefined, skipped: 0 })
  await writeAnvilState(statePath, json)
  rounds.savedAt = head.hash
  return head.hash
}

async function rpc<T>(rpcUrl: string, method: string, params: unknown[]): Promise<T> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await response.json()) as { result?: T; error?: { message: string } }
  if (body.error || body.result === undefined)
    throw new Error(`${method}: ${body.error?.message ?? 'no result'}`)
  return body.result
}

/**
 * An anvil left running on this state by a process that was killed: stopped cleanly (it saves its
 * state on the way out, which the next start takes over), so two never serve one state.
 */
async function stopLeftover(pidFile: string, statePath: string, log: (line: string) => void) {
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, 'utf8'))
  rmSync(pidFile, { force: true })
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isAnvilOf(pid, statePath)) return
  log(`devnet: stopping anvil ${pid}, left running on ${statePath} by an earlier process`)
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + 15_000
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL')
      break
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Whether `pid` is an anvil serving `statePath` (checked in /proc where there is one). */
function isAnvilOf(pid: number, statePath: string): boolean {
  if (!isAlive(pid)) return false
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes('anvil') && cmdline.includes(statePath)
  } catch {
    return process.platform !== 'linux'
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
