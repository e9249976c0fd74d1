import { ValidationError } from '@agora/db'
import {
  type Address,
  erc20Abi,
  formatUnits,
  getAddress,
  isAddress,
  type PublicClient,
  parseUnits,
  zeroAddress,
} from 'viem'
import { type Money, toMoney } from '../views/money.ts'

export type Token = { symbol: string; address: Address; decimals: number }

/**
 * The tokens a runtime knows by symbol (ETH, dUSD on the devnet, the deployment's configured tokens);
 * any other ERC-20 is accepted by address, its decimals read once from the chain. The first known
 * ERC-20 is the default token, used where a payment, hire or spending limit names none.
 */
export function createTokenRegistry(publicClient: PublicClient, known: Token[]) {
  const bySymbol = new Map(known.map((t) => [t.symbol.toLowerCase(), t]))
  const byAddress = new Map(known.map((t) => [t.address.toLowerCase(), t]))
  const defaultToken = known.find((t) => t.address !== zeroAddress)
  return {
    /** The token used when none is named (dUSD on the devnet, the manifest's first token elsewhere). */
    defaultToken,
    /**
     * Resolves a symbol or address to a token (the default token when none is given); unknown symbols
     * are an error that lists the known ones.
     */
    async resolve(tokenOrSymbol?: string): Promise<Token> {
      if (tokenOrSymbol === undefined) {
        if (defaultToken) return defaultToken
        throw new ValidationError(
          'This deployment has no default token (its manifest lists none): name one, ETH or an ERC-20 address.',
        )
      }
      const known = bySymbol.get(tokenOrSymbol.toLowerCase()) ?? byAddress.get(tokenOrSymbol.toLowerCase())
      if (known) return known
      if (!isAddress(tokenOrSymbol)) {
        throw new ValidationError(
          `Unknown token "${tokenOrSymbol}": use one of ${[...bySymbol.values()].map((t) => t.symbol).join(', ')} or an ERC-20 address.`,
        )
      }
      const address = getAddress(tokenOrSymbol)
      const decimals = await publicClient
        .readContract({ address, abi: erc20Abi, functionName: 'decimals' })
        .catch((cause: unknown) => {
          throw new ValidationError(`${address} does not look like an ERC-20 token (no decimals()).`, {
            cause,
          })
        })
      const token = { symbol: address, address, decimals }
      byAddress.set(address.toLowerCase(), token)
      return token
    },
    /** Parses a decimal amount in token units into base units, refusing more decimals than the token has. */
    parse(amount: string, token: Token): bigint {
      if (!/^\d+(\.\d+)?$/.test(amount)) {
        throw new ValidationError(`"${amount}" is not an amount: use a decimal number such as "2.5".`)
      }
      const fraction = amount.split('.')[1] ?? ''
      if (fraction.length > token.decimals) {
        throw new ValidationError(`${token.symbol} has ${token.decimals} decimals; "${amount}" has more.`)
      }
      return parseUnits(amount, token.decimals)
    },
    /** What `holder` holds of `token`, in base units (ETH for the zero address). */
    balanceOf(token: Token, holder: Address): Promise<bigint> {
      return token.address === zeroAddress
        ? publicClient.getBalance({ address: holder })
        : publicClient.readContract({
            address: token.address,
            abi: erc20Abi,
            functionName: 'balanceOf',
            args: [holder],
          })
    },
    format(amount: bigint, token: Token): string {
      return formatUnits(amount, token.decimals)
    },
    /** `value` (base units) of `token` in the one money shape every view and event uses. */
    money(value: bigint | string, token: Token): Money {
      return toMoney(value, token)
    },
    /** The same for a token known by address (resolved, and cached, first). */
    async moneyOf(value: bigint | string, tokenAddress: string): Promise<Money> {
      return toMoney(value, await this.resolve(tokenAddress))
    },
    eth: { symbol: 'ETH', address: zeroAddress, decimals: 18 } as Token,
  }
}

export type TokenRegistry = ReturnType<typeof createTokenRegistry>
