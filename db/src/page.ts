import { ValidationError } from './errors.ts'

/** Every list answers a page at a time: this many items unless asked otherwise, never more than `max`. */
export const PAGE_LIMIT = { default: 50, max: 200 } as const

/** Items in order, and the cursor that reads on after the last of them (null: nothing more). */
export type Page<T> = { items: T[]; next: string | null }

/** A list's paging parameters: at most `limit` items, after the place `cursor` marks. */
export type PageParameters = { limit?: number; cursor?: string }

/** Checks a page size: an integer from 1 to `PAGE_LIMIT.max`, `PAGE_LIMIT.default` when not given. */
export function pageLimit(limit: number | undefined): number {
  const size = limit ?? PAGE_LIMIT.default
  if (!Number.isInteger(size) || size < 1 || size > PAGE_LIMIT.max)
    throw new ValidationError(`limit must be an integer from 1 to ${PAGE_LIMIT.max}, got ${limit}.`, {
      code: 'INVALID_INPUT',
    })
  return size
}

/**
 * An opaque cursor: the sort key of the last item a page held, for the list named `list` (a
 * cursor of one list is refused by another).
 *
 * @example
 * const next = encodeCursor('agents', [agent.id])
 */
export function encodeCursor(list: string, key: (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...key])).toString('base64url')
}

/**
 * The sort key a cursor of `list` holds, checked against `shape` (the type of each part); any other
 * string is refused with a message saying where cursors come from.
 *
 * @example
 * const [id] = decodeCursor(cursor, 'agents', ['string'])
 */
export function decodeCursor<const S extends readonly ('string' | 'number')[]>(
  cursor: string,
  list: string,
  shape: S,
): { [K in keyof S]: S[K] extends 'number' ? number : string } {
  let parts: unknown
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    parts = undefined
  }
  const valid =
    Array.isArray(parts) &&
    parts.length === shape.length + 1 &&
    parts[0] === list &&
    shape.every(
      (type, i) => typeof parts[i + 1] === type && (type === 'string' || Number.isFinite(parts[i + 1])),
    )
  if (!valid)
    throw new ValidationError(
      `cursor is not one this list gave: pass the \`next\` of the previous page of ${list} unchanged.`,
      { code: 'INVALID_INPUT' },
    )
  return (parts as unknown[]).slice(1) as { [K in keyof S]: S[K] extends 'number' ? number : string }
}

/**
 * The page of `rows` read with one row more than `limit`: that extra row only says a next page
 * exists, and the cursor is made from the last row kept.
 *
 * @example
 * return toPage(await query.limit(limit + 1), limit, (row) => encodeCursor('agents', [row.id]))
 */
export function toPage<T>(rows: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  if (rows.length <= limit) return { items: rows, next: null }
  const items = rows.slice(0, limit)
  return { items, next: cursorOf(items.at(-1)!) }
}
