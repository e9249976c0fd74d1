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

/** What `anvil_dumpState` holds (gzipped JSON, hex) as JSON text. */
export async function unpackAnvilDump(dump: `0x${string}`): Promise<string> {
  return (await promisify(gunzip)(Buffer.from(dump.slice(2), 'hex'))).toString('utf8')
}

/** The parts of a state anvil dumps that `tornAnvilState` reads. */
export type AnvilStateFile = {
  best_block_number?: string | number
  accounts?: Record<string, { nonce?: string | number; code?: string }>
  blocks?: {
    header: { number: string | number }
    transactions?: { transaction: { hash?: string }; impersonated_sender?: string | null }[]
  }[]
  transactions?: { info: { transaction_hash: string; from: string }; block_number: string | number }[]
}

/**
 * Why a state anvil dumped is torn, or undefined when it reads as whole. `anvil_dumpState` reads the
 * chain's history (head, blocks, transactions) and then the accounts, under separate locks: a block
 * mined in between leaves its effects in the accounts (its senders' nonces spent, its transfers
 * made) with neither the block nor its receipts in the history. A node loaded from such a state has
 * lost those transactions for good: no nonce is free to send them again. So every account without
 * code must have sent exactly the transactions the history holds from it (when the history reaches
 * back to block 0, so it covers every account), and nothing may lie past the head.
 *
 * A mismatch is not always a tear (an account given a nonce at genesis or by `anvil_setNonce` has
 * one too): the caller decides what a mismatch that does not go away means.
 *
 * @example
 * const reason = tornAnvilState(JSON.parse(await unpackAnvilDump(dump)))
 */
export function tornAnvilState(state: AnvilStateFile): string | undefined {
  const head = Number(state.best_block_number)
  if (!Number.isSafeInteger(head)) return 'it has no head'
  const senders = new Map<string, string>()
  for (const tx of state.transactions ?? []) {
    if (Number(tx.block_number) > head)
      return `transaction ${tx.info.transaction_hash} is in block ${Number(tx.block_number)}, past the head ${head}`
    senders.set(tx.info.transaction_hash.toLowerCase(), tx.info.from.toLowerCase())
  }
  const sent = new Map<string, number>()
  const counted = new Set<string>()
  const numbers = new Set<number>()
  for (const block of state.blocks ?? []) {
    const number = Number(block.header.number)
    if (number > head) return `block ${number} is past the head ${head}`
    numbers.add(number)
    for (const { transaction, impersonated_sender } of block.transactions ?? []) {
      const hash = transaction.hash?.toLowerCase()
      // A block of a reloaded state can be held twice (genesis is): each transaction counts once.
      if (!hash || counted.has(hash)) continue
      counted.add(hash)
      const from = senders.get(hash) ?? impersonated_sender?.toLowerCase()
      if (!from) return `transaction ${hash} of block ${number} has no receipt`
      sent.set(from, (sent.get(from) ?? 0) + 1)
    }
  }
  // A history that does not reach back to genesis (pruned) cannot say how much an account sent.
  for (let number = 0; number <= head; number++) if (!numbers.has(number)) return undefined
  for (const [address, account] of Object.entries(state.accounts ?? {})) {
    if (account.code && account.code !== '0x') continue
    const nonce = Number(account.nonce ?? 0)
    const count = sent.get(address.toLowerCase()) ?? 0
    if (nonce !== count)
      return `${address} has nonce ${nonce} but ${count} transaction(s) from it in blocks up to ${head}`
  }
  return undefined
}

/**
 * Writes a state (the JSON text of `anvil_dumpState`, see `unpackAnvilDump`) to `statePath`
 * atomically: in full beside it, synced, then renamed over it. A kill at any moment leaves either the
 * old state or the new one, never a part.
 */
export async function writeAnvilState(statePath: string, json: string): Promise<void> {
  const { state, temporary } = anvilStateFiles(statePath)
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
