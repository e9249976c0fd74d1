import { isTransientChainError } from '../errors.ts'

/** Runs `run`, retrying transient RPC errors (not refusals) up to five times with backoff. */
export async function withRetries<T>(
  log: (line: string) => void,
  what: string,
  run: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (error) {
      if (attempt >= 5 || !isTransientChainError(error)) throw error
      const delay = 100 * 2 ** attempt
      log(`${what}: transient RPC error, retrying in ${delay} ms (${attempt}/5)`)
      await new Promise((r) => setTimeout(r, delay))
    }
  }
}
