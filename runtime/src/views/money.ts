import { type Address, formatUnits } from 'viem'
import { z } from 'zod'

const baseUnits = z.string().regex(/^\d+$/)

/**
 * An amount of a token: the one money shape of every response and event. `value` is exact (base
 * units, a decimal string); `formatted` is the same in token units, for people. Inputs take token
 * units ("1.5").
 */
export const moneySchema = z
  .object({
    value: baseUnits.describe('The amount in base units (a decimal string; exact).'),
    decimals: z.number().int().min(0).max(255).describe("The token's decimals."),
    token: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .describe('The token contract; the zero address for ETH.'),
    symbol: z
      .string()
      .describe('The token symbol (its address for tokens the runtime does not know by name).'),
    formatted: z.string().describe('The amount in token units, e.g. "1.5".'),
  })
  .meta({
    id: 'Money',
    description: 'An amount of a token.',
    examples: [
      {
        value: '1500000',
        decimals: 6,
        token: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
        symbol: 'dUSD',
        formatted: '1.5',
      },
    ],
  })

export type Money = z.infer<typeof moneySchema>

/**
 * `value` (base units) of `token` as `Money`.
 *
 * @example
 * toMoney(1_500_000n, { symbol: 'dUSD', address: '0x…', decimals: 6 }) // { value: '1500000', …, formatted: '1.5' }
 */
export function toMoney(
  value: bigint | string,
  token: { symbol: string; address: Address; decimals: number },
): Money {
  const amount = BigInt(value)
  return {
    value: amount.toString(),
    decimals: token.decimals,
    token: token.address.toLowerCase() as Address,
    symbol: token.symbol,
    formatted: formatUnits(amount, token.decimals),
  }
}
