import { ValidationError } from './errors.ts'

const maxUint256 = 2n ** 256n - 1n

/** Checks a 0x address and returns its one stored spelling: lower-case. */
export function normalizeAddress(value: string, field: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value))
    throw new ValidationError(`${field} must be a 0x-prefixed 20-byte hex address, got "${value}".`, {
      code: 'INVALID_INPUT',
    })
  return value.toLowerCase()
}

/**
 * Checks a uint256 given as a decimal string (amounts, chain ids) and returns it without leading
 * zeros. numeric(78,0) would silently round "1.5" to 2, so anything but digits is refused here.
 */
export function normalizeUint(value: string, field: string): string {
  if (typeof value !== 'string' || !/^[0-9]+$/.test(value))
    throw new ValidationError(
      `${field} must be a non-negative integer as a decimal string, got ${JSON.stringify(value)}.`,
      {
        code: 'INVALID_INPUT',
      },
    )
  const parsed = BigInt(value)
  if (parsed > maxUint256)
    throw new ValidationError(`${field} does not fit in uint256: ${value}.`, { code: 'INVALID_INPUT' })
  return parsed.toString()
}

/**
 * Checks that a jsonb value survives JSON.stringify; the usual culprit is a bigint amount, which
 * belongs in JSON as a decimal string.
 */
export function assertJson(value: unknown, field: string): void {
  try {
    JSON.stringify(value)
  } catch (cause) {
    throw new ValidationError(`${field} must be plain JSON (amounts as decimal strings).`, {
      code: 'INVALID_INPUT',
      cause,
    })
  }
}

/** Applies `normalize` to a value that may be absent (undefined: leave as is; null: clear). */
export function optional<T, R>(
  value: T | null | undefined,
  normalize: (value: T) => R,
): R | null | undefined {
  if (value === null || value === undefined) return value as null | undefined
  return normalize(value)
}
