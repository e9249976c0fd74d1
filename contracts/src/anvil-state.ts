import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'

/**
 * Where anvil's state lives beside `statePath`. anvil writes a state file with a plain truncate and
 * write (`--state`, `--dump-state`, `--state-interval` alike), so a kill while it writes leaves a
 * truncated file that it then refuses to load. Here `statePath` itself is only ever replaced whole
 * (written beside it, synced, renamed over it); anvil's own dump on exit goes to `exit`, and is taken
 * over at the next start only if it is complete and not older.
 */
export function anvilStateFiles(statePath: string) {
  return {
    /** The state anvil is started from; replaced atomically only. */
    state: statePath,
    /** What anvil writes when it exits cleanly (`--dump-state`). */
    exit: `${statePath}.exit`,
    /** Beside the state while it is being written. */
    temporary: `${statePath}.tmp`,
    /** The pid of the anvil serving this state, while it runs. */
    pid: `${statePath}.pid`,
  }
}

/** The state's latest block, or undefined when the file is missing or not a complete state. */
function bestBlock(path: string): number | undefined {
  if (!existsSync(path)) return undefined
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as { best_block_number?: string | number }
    const best = Number(state.best_block_number)
    return Number.isFinite(best) ? best : undefined
  } catch {
    return undefined
  }
}

/**
 * Makes `statePath` the newest complete state there is, before anvil starts from it: anvil's dump
 * on exit replaces it when that is complete and not older; a partial one (anvil was killed while
 * writing it) is dropped, and so is a half-written temporary file. A state that is itself unreadable
 * (which this never writes) is left for anvil to refuse, naming the file.
 *
 * @example
 * recoverAnvilState('.agora/devnet/chain.json')
 */
export function recoverAnvilState(statePath: string, log: (line: string) => void = () => {}) {
  const files = anvilStateFiles(statePath)
  rmSync(files.temporary, { force: true })
  const current = bestBlock(files.state)
  if (existsSync(files.exit)) {
    const exited = bestBlock(files.exit)
    if (exited !== undefined && (current === undefined || exited >= current)) {
      renameSync(files.exit, files.state)
      log(`devnet: resuming from the state anvil saved when it stopped (block ${exited})`)
      return
    }
    log(`devnet: ${files.exit} is incomplete (anvil was stopped while writing it); keeping ${files.state}`)
    rmSync(files.exit, { force: true })
  }
}

/**
 * Writes the state anvil returns from `anvil_dumpState` (gzipped JSON, hex) to `statePath`
 * atomically: in full beside it, synced, then renamed over it. A kill at any moment leaves either the
 * old state or the new one, never a part.
 */
export async function writeAnvilState(statePath: string, dump: `0x${string}`): Promise<void> {
  const { state, temporary } = anvilStateFiles(statePath)
  const json = await promisify(gunzip)(Buffer.from(dump.slice(2), 'hex'))
  const file = await open(temporary, 'w', 0o600)
  try {
    await file.writeFile(json)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(temporary, state)
  // The rename itself is durable once the directory is synced.
  const dir = await open(dirname(state), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
