import { ConfigError, getShardHolder, recordShardHolder, sessionLocks } from '@agora/db'
import type { RuntimeClient } from '../client.ts'

/** The name of a shard's lease among the database's session locks. */
export const shardLock = (shard: number) => `agora:shard:${shard}`

/**
 * Takes this process's shard: a session lock on the database (released at `stop`, or the moment the
 * process dies, so another process can take the shard over at once), then records where this
 * process is reached, so the others forward the shard's agents' requests here. A shard another
 * live process holds is refused with a `ConfigError` naming it.
 *
 * @example
 * const release = await holdShard(client, { url: 'http://10.0.0.7:3001' })
 */
export async function holdShard(
  client: Pick<RuntimeClient, 'db' | 'shard'>,
  parameters: { url?: string } = {},
): Promise<() => Promise<void>> {
  const names = [shardLock(client.shard)]
  const locks = sessionLocks(client.db)
  if ((await locks.take(names)).length > 0) {
    const holder = await getShardHolder(client.db, client.shard)
    const where = holder ? ` (process ${holder.pid}${holder.url ? ` at ${holder.url}` : ''})` : ''
    throw new ConfigError(
      `Shard ${client.shard} is served by another runtime process on this database${where}. Give this process another shard (AGORA_SHARD), or stop the other one first.`,
    )
  }
  await recordShardHolder(client.db, { shard: client.shard, url: parameters.url ?? null, pid: process.pid })
  let released = false
  return async () => {
    if (released) return
    released = true
    await locks.release(names)
  }
}

/**
 * Whether some live process holds `shard`: its lock is taken. (Taking it to look is how Postgres
 * tells; the lock is given back at once.)
 *
 * @example
 * if (!(await shardIsHeld(db, 1))) console.log('shard 1 is waiting for a process')
 */
export async function shardIsHeld(db: RuntimeClient['db'], shard: number): Promise<boolean> {
  const locks = sessionLocks(db)
  const names = [shardLock(shard)]
  if ((await locks.take(names)).length > 0) return true
  await locks.release(names)
  return false
}
