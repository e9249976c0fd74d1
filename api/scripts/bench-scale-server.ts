/**
 * The API as `npm run bench:scale` runs it: `npm start` in chain mode as a child process (one
 * process, or `AGORA_WORKERS=n`) on a fresh devnet and a fresh temporary Postgres database, signed
 * in as a development account; plus what the bench reads of its processes (`/proc`) and the undo
 * list that tears everything down, on success, failure or Ctrl-C.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Devnet, startDevnet } from '@agora/contracts'
import postgres from 'postgres'
import { freePort, signIn } from '../test/npm-start.ts'

const main = join(import.meta.dirname, '..', 'src', 'main.ts')

/** Undo steps, run last-in first-out: every child process, devnet and database the bench made. */
export type Cleanup = { add(undo: () => Promise<void>): () => Promise<void>; run(): Promise<void> }

/**
 * A list of undo steps. `add` returns the step, to run it early (it leaves the list then).
 *
 * @example
 * const cleanup = createCleanup()
 * const stopDevnet = cleanup.add(() => devnet.stop())
 */
export function createCleanup(log: (line: string) => void): Cleanup {
  const steps: (() => Promise<void>)[] = []
  // One run at a time, in order: a Ctrl-C during the bench's own clean-up joins it.
  let running: Promise<void> | undefined
  return {
    add(undo) {
      let done: Promise<void> | undefined
      const step = () => {
        const at = steps.indexOf(step)
        if (at >= 0) steps.splice(at, 1)
        done ??= undo().catch((error: unknown) => log(`clean-up: ${(error as Error).message}`))
        return done
      }
      steps.push(step)
      return step
    },
    run() {
      running ??= (async () => {
        while (steps.length > 0) await steps.at(-1)!()
      })()
      return running
    },
  }
}

/** A process serving a shard: its pid and the URL it answers on itself (`runtime_shards`). */
export type Holder = { shard: number; pid: number; url: string }

export type ScaleServer = {
  devnet: Devnet
  /** The shared port every process listens on. */
  url: string
  holders: Holder[]
  /** A bearer token of development account `ownerIndex`, good on every process. */
  token: string
  sql: postgres.Sql
  stop(): Promise<void>
}

export type StartServerParameters = {
  /** 1: one process, no `AGORA_WORKERS`; more: `AGORA_WORKERS=processes`. */
  processes: number
  /** Relayer keys in all (the supervisor gives each process every n-th). */
  relayers: number
  /** Development accounts on the devnet; the relayers are the last ones. */
  accounts: number
  ownerIndex: number
  createDatabase(): Promise<{ url: string; drop(): Promise<void> }>
  cleanup: Cleanup
  say(line: string): void
}

/**
 * Starts a devnet, a temporary database and the API on them; resolves once every shard's process
 * answers `/health` with 200 and the owner is signed in. What was started is undone by `stop()`, or
 * by the cleanup list when the bench ends first.
 *
 * @example
 * const server = await startServer({ processes: 2, relayers: 4, accounts: 24, ownerIndex: 2, ... })
 */
export async function startServer(parameters: StartServerParameters): Promise<ScaleServer> {
  const { processes, cleanup, say } = parameters
  const undo: (() => Promise<void>)[] = []
  const stop = cleanup.add(async () => {
    for (const step of undo.reverse()) await step()
  })
  try {
    say(
      `  starting a devnet, a database and ${processes === 1 ? 'one process' : `${processes} processes`}...`,
    )
    const devnet = await startDevnet({ log: () => {}, accounts: parameters.accounts })
    undo.push(() => devnet.stop())
    const database = await parameters.createDatabase()
    undo.push(() => database.drop())
    const sql = postgres(database.url, { max: 2, onnotice: () => {} })
    undo.push(() => sql.end({ timeout: 5 }))
    const dir = mkdtempSync(join(tmpdir(), 'agora-bench-scale-'))
    undo.push(async () => rmSync(dir, { recursive: true, force: true }))
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const keys = devnet.manifest.accounts.slice(-parameters.relayers).map((a) => a.privateKey)
    const child = spawnApi({ devnet, dir, port, url, keys, databaseUrl: database.url, processes })
    undo.push(() => stopChild(child.process, sql))
    const holders = await waitForHolders(sql, processes, child)
    const token = await signIn(url, parameters.ownerIndex)
    return { devnet, url, holders, token, sql, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

type Child = { process: ChildProcess; output(): string }

function spawnApi(options: {
  devnet: Devnet
  dir: string
  port: number
  url: string
  keys: string[]
  databaseUrl: string
  processes: number
}): Child {
  const { devnet, dir, port, url, processes } = options
  const manifestPath = join(dir, 'manifest.json')
  writeFileSync(manifestPath, JSON.stringify(devnet.manifest))
  const child = spawn(process.execPath, ['--conditions=@agora/source', '--import', 'tsx', main], {
    env: {
      ...process.env,
      RPC_URL: devnet.rpcUrl,
      CHAIN_ID: String(devnet.manifest.chainId),
      DEPLOYMENT_MANIFEST: manifestPath,
      MASTER_KEY: randomBytes(32).toString('hex'),
      RELAYER_KEYS: options.keys.join(','),
      DATABASE_URL: options.databaseUrl,
      // One process is the plain chain mode: AGORA_WORKERS=1 is not a setting of its own.
      AGORA_WORKERS: processes > 1 ? String(processes) : '',
      AGORA_DATA_DIR: dir,
      // One owner launches every agent here: far past any per-owner quota.
      AGORA_QUOTAS: 'off',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  return { process: child, output: () => output }
}

/** SIGTERM (the supervisor stops its processes), SIGKILL after 30 s; then any shard process left. */
async function stopChild(child: ChildProcess, sql: postgres.Sql) {
  const pids = await sql<{ pid: number }[]>`select pid from runtime_shards`.catch(() => [])
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const late = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(late)
  }
  for (const { pid } of pids) {
    if (pid !== child.pid && alive(pid)) process.kill(pid, 'SIGKILL')
  }
}

function alive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Every shard held by a live process that answers `/health` with 200, within two minutes. */
async function waitForHolders(sql: postgres.Sql, processes: number, child: Child): Promise<Holder[]> {
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.process.exitCode !== null)
      throw new Error(`the API exited with ${child.process.exitCode}:\n${child.output()}`)
    const rows = await sql<Holder[]>`select shard, pid, url from runtime_shards order by shard`.catch(
      () => [],
    )
    if (rows.length === processes && (await Promise.all(rows.map(healthy))).every(Boolean)) return [...rows]
    if (Date.now() > deadline)
      throw new Error(`the API's processes did not all start within two minutes:\n${child.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function healthy(holder: Holder) {
  if (!alive(holder.pid)) return false
  const response = await fetch(`${holder.url}/health`).catch(() => undefined)
  await response?.arrayBuffer()
  return response?.status === 200
}

/** A process's resident memory now, in bytes (`VmRSS` of /proc/<pid>/status). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kB = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]
  if (kB === undefined) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kB) * 1024
}

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** The CPU time a process has used so far (user + system, /proc/<pid>/stat), in seconds. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may hold spaces: utime is the 14th
  // field of the line, stime the 15th, i.e. the 12th and 13th after the ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
}

/** A JSON request with the bearer token: its status and parsed body (or text, when not JSON). */
export async function call(
  token: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  })
  const text = await response.text()
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> }
  } catch {
    return { status: response.status, body: { detail: text.slice(0, 300) } }
  }
}
