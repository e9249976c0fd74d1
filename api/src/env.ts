import type { Db, Session } from '@agora/db'
import type { Runtime } from '@agora/runtime'

/** What a deployment signs users in for: SIWE messages must name this domain, origin and chain. */
export type SiweConfig = {
  /** The host (and port) users see, e.g. `localhost:8787`. */
  domain: string
  /** The origin the message's URI must belong to, e.g. `http://localhost:8787`. */
  origin: string
  chainId: number
  /** Latest a message's `Issued At` may lie in the future or the past, in ms (default 10 minutes). */
  maxAgeMs: number
}

/** Dependencies every handler reads from `c.var`, set once per request by `createApp`. */
export type AppEnv = {
  Variables: {
    runtime: Runtime
    /** The API's own storage: sessions and sign-in nonces (the runtime's database). */
    db: Db
    siwe: SiweConfig
    /** Set by `requireAuth`; absent on public routes. */
    session: Session
  }
}
