import { agentEconomyAbi, agentFactoryAbi, agentIdentityRegistryAbi } from '@agora/contracts'
import { type Address, type Hex, type Log, type PublicClient, parseEventLogs } from 'viem'
import { wrapChainError } from '../errors.ts'

const abi = [...agentEconomyAbi, ...agentIdentityRegistryAbi, ...agentFactoryAbi]

/** A decoded event from the economy, identity registry or factory. */
export type ChainEvent = ReturnType<typeof parseEventLogs<typeof abi>>[number]

/** Where the indexer keeps its progress: the last block handled and recent block hashes. */
export type IndexerStore = {
  getCursor(name: string): Promise<{ blockNumber: bigint; blockHash: string } | undefined>
  /** Saves the cursor and the hashes of the blocks just handled, atomically. */
  advance(
    name: string,
    cursor: { blockNumber: bigint; blockHash: string },
    blocks: { number: bigint; hash: string }[],
  ): Promise<void>
  getBlockHash(number: bigint): Promise<string | undefined>
  /** Forgets blocks above `number` (after a reorg) and moves the cursor back to it. */
  rewind(name: string, cursor: { blockNumber: bigint; blockHash: string }): Promise<void>
  pruneBlocks(below: bigint): Promise<void>
}

export type IndexerParameters = {
  name?: string
  publicClient: PublicClient
  store: IndexerStore
  addresses: Address[]
  /** First block to read when there is no cursor yet (the deployment block). */
  fromBlock: bigint
  /** Blocks to wait before an event counts (0 on the devnet). */
  confirmations?: number
  /** Most blocks read per request. */
  batchSize?: number
  /** How far back reorgs are checked for (block hashes kept). */
  reorgDepth?: number
  pollIntervalMs?: number
  /** Handles one batch of events in block order; must be idempotent (a reorg replays events). */
  onEvents(events: ChainEvent[]): Promise<void>
  /** Called after a reorg rewound the cursor, before the replay: re-read whatever may have changed. */
  onReorg?(ancestor: bigint): Promise<void>
  log?: (line: string) => void
}

/**
 * Follows the economy, identity registry and factory from a cursor kept in the database. Blocks are
 * handled once they have `confirmations` on top; each step first checks that the last handled block
 * is still on the chain and, after a reorg, walks back to the common ancestor and replays from there.
 */
export function createIndexer(parameters: IndexerParameters) {
  const {
    name = 'economy',
    publicClient,
    store,
    addresses,
    confirmations = 0,
    batchSize = 2_000,
    reorgDepth = 64,
    pollIntervalMs = 250,
    onEvents,
    log = () => {},
  } = parameters
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<number> | undefined
  let stopped = true
  const waiters = new Set<() => void>()

  async function blockHash(number: bigint): Promise<Hex> {
    const block = await publicClient.getBlock({ blockNumber: number })
    return block.hash
  }

  /**
   * Walks back from `from` (never above the chain's head) to the newest block whose stored hash the
   * chain still has: the common ancestor. Blocks without a stored hash carried no events, so skipping
   * them loses nothing. When none of the hashes kept (`reorgDepth` blocks) is on the chain any more,
   * the fork is deeper than what is kept, or the chain was rolled back past them (a node restored
   * from an older state): everything is replayed from `fromBlock`, which costs time but misses nothing.
   */
  async function findAncestor(from: bigint, head: bigint): Promise<bigint> {
    const top = from < head ? from : head
    const floor =
      top - BigInt(reorgDepth) > parameters.fromBlock ? top - BigInt(reorgDepth) : parameters.fromBlock
    for (let n = top; n >= floor; n--) {
      const ours = await store.getBlockHash(n)
      if (ours !== undefined && ours === (await blockHash(n))) return n
    }
    return parameters.fromBlock - 1n
  }

  /** One pass: handles every confirmed block after the cursor. Returns the number of events. */
  async function step(): Promise<number> {
    const head = await publicClient.getBlockNumber({ cacheTime: 0 })
    const safeHead = head - BigInt(confirmations)
    let cursor = await store.getCursor(name)
    if (cursor && cursor.blockNumber >= parameters.fromBlock) {
      const onChain = cursor.blockNumber <= head ? await blockHash(cursor.blockNumber) : undefined
      if (onChain !== cursor.blockHash) {
        const ancestor = await findAncestor(cursor.blockNumber - 1n, head)
        const ancestorHash = ancestor >= 0n ? await blockHash(ancestor) : '0x'
        const what = cursor.blockNumber > head ? `the chain rolled back to ${head}` : 'reorg'
        log(`indexer: ${what} below block ${cursor.blockNumber}; replaying from ${ancestor + 1n}`)
        await store.rewind(name, { blockNumber: ancestor, blockHash: ancestorHash })
        await parameters.onReorg?.(ancestor)
        cursor = { blockNumber: ancestor, blockHash: ancestorHash }
      }
    }
    let from = cursor ? cursor.blockNumber + 1n : parameters.fromBlock
    let handled = 0
    while (from <= safeHead) {
      const to = from + BigInt(batchSize) - 1n < safeHead ? from + BigInt(batchSize) - 1n : safeHead
      const logs = await publicClient.getLogs({ address: addresses, fromBlock: from, toBlock: to })
      const events = parseEventLogs({ abi, logs: logs as Log[] })
      if (events.length > 0) await onEvents(events)
      handled += events.length
      // Remember the hashes of the blocks that carried events and of the batch's last block.
      const hashes = new Map<bigint, string>()
      for (const l of logs) if (l.blockNumber !== null && l.blockHash) hashes.set(l.blockNumber, l.blockHash)
      const lastHash = hashes.get(to) ?? (await blockHash(to))
      hashes.set(to, lastHash)
      await store.advance(
        name,
        { blockNumber: to, blockHash: lastHash },
        [...hashes].map(([number, hash]) => ({ number, hash })),
      )
      if (to > BigInt(reorgDepth)) await store.pruneBlocks(to - BigInt(reorgDepth))
      from = to + 1n
    }
    return handled
  }

  const tick = async () => {
    if (stopped) return
    try {
      running = step()
      await running
    } catch (error) {
      log(`indexer: ${wrapChainError(error, 'reading chain events').shortMessage}`)
    } finally {
      running = undefined
      for (const wake of waiters) wake()
      waiters.clear()
      if (!stopped) timer = setTimeout(tick, pollIntervalMs)
    }
  }

  return {
    /** Runs one pass now (also while stopped): handy for tests and for catching up at start. */
    step,
    start() {
      if (!stopped) return
      stopped = false
      void tick()
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running?.catch(() => {})
    },
    /** Resolves after the next pass has finished. */
    nextPass() {
      return new Promise<void>((resolve) => waiters.add(resolve))
    },
  }
}

export type Indexer = ReturnType<typeof createIndexer>
