import { randomBytes } from 'node:crypto'

/**
 * A random id with a readable prefix, e.g. `createId('agt')` → `agt_3f9c1e0a7b2d4c5e8f601a2b`.
 *
 * @example
 * const id = createId('agt')
 */
export function createId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`
}
