import { ConfigError, sessionLocks } from '@agora/db'
import type { RuntimeClient } from '../client.ts'

/**
 * Claims this process's relayer keys on the database: two processes signing with one relayer would
 * spend the same nonces and replace each other's transactions. Each key is a session lock, released
 * at `stop` or the moment the process dies (so a restarted process gets its keys back at once). A
 * key another live process holds is refused with a `ConfigError` naming it, before anything is sent.
 *
 * @example
 * const release = await holdRelayers(client)
 * await release() // at stop
 */
export async function holdRelayers(
  client: Pick<RuntimeClient, 'db' | 'outbox'>,
): Promise<() => Promise<void>> {
  const names = client.outbox.relayers.map((r) => `agora:relayer:${r.address.toLowerCase()}`)
  const locks = sessionLocks(client.db)
  const refused = await locks.take(names)
  if (refused.length > 0) {
    const addresses = refused.map((n) => n.slice('agora:relayer:'.length)).join(', ')
    throw new ConfigError(
      `Relayer ${addresses} is in use by another runtime process on this database. Give each process relayer keys of its own (RELAYER_KEYS), or stop the other process first.`,
    )
  }
  let released = false
  return async () => {
    if (released) return
    released = true
    await locks.release(names)
  }
}
