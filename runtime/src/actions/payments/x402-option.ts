import { ValidationError } from '@agora/db'
import { x402Client, x402HTTPClient } from '@x402/core/client'
import { parsePaymentRequired } from '@x402/core/schemas'
import type { PaymentRequired, PaymentRequirements } from '@x402/core/types'
import { isAddress } from 'viem'
import type { RuntimeClient } from '../../client.ts'
import { PolicyError } from '../../errors.ts'
import type { Token } from '../../wallet/tokens.ts'
import type { ResourceResponse } from './x402-request.ts'

/**
 * The longest an authorization may stay valid (seconds): an unsettled one counts as spent until it
 * expires, so a server asking for longer is refused.
 */
export const maxAuthorizationSeconds = 3_600

/**
 * What a 402 answer asks to be paid: its `PAYMENT-REQUIRED` header decoded by x402's HTTP client and
 * checked against the protocol's own schema, returned as sent. Only x402 version 2 is accepted.
 *
 * @example
 * const required = readPaymentRequired(response, new URL(url))
 */
export function readPaymentRequired(response: ResourceResponse, url: URL): PaymentRequired {
  const http = new x402HTTPClient(new x402Client())
  let decoded: unknown
  try {
    decoded = http.getPaymentRequiredResponse((name) => response.headers[name.toLowerCase()], response.body)
  } catch (cause) {
    throw new ValidationError(`${url.href} answered 402 without a readable PAYMENT-REQUIRED header.`, {
      cause,
    })
  }
  const parsed = parsePaymentRequired(decoded)
  if (!parsed.success)
    throw new ValidationError(`${url.href} answered 402 with a malformed PAYMENT-REQUIRED header.`, {
      details: parsed.error.message,
    })
  if (parsed.data.x402Version !== 2)
    throw new ValidationError(
      `${url.href} asks for x402 version ${parsed.data.x402Version}; only version 2 is supported.`,
    )
  // As the server sent it: the payment names the option it accepts, which must equal the server's own.
  return decoded as PaymentRequired
}

/**
 * The first option (in the server's order) an agent's Safe can pay: `exact` by EIP-3009 on this
 * chain, in a token the runtime knows by name, valid at most `maxAuthorizationSeconds`, and at most
 * `maxAmount`. None usable is a `ValidationError` listing what was offered; none cheap enough, a
 * `PolicyError`. Nothing is signed or recorded either way.
 *
 * @example
 * const { option, token } = chooseOption(client, required, { url, maxAmount: '0.05' })
 */
export function chooseOption(
  client: Pick<RuntimeClient, 'chain' | 'tokens'>,
  required: PaymentRequired,
  parameters: { url: URL; maxAmount?: string },
): { option: PaymentRequirements; token: Token } {
  const { url, maxAmount } = parameters
  const network = `eip155:${client.chain.chainId}`
  const tokens = client.chain.knownTokens.filter((t) => BigInt(t.address) !== 0n)
  const known = (asset: string) => tokens.find((t) => t.address.toLowerCase() === asset.toLowerCase())
  const usable = required.accepts.filter(
    (o) =>
      o.scheme === 'exact' &&
      o.network === network &&
      known(o.asset) &&
      isAddress(o.payTo) &&
      /^\d{1,78}$/.test(o.amount) &&
      BigInt(o.amount) > 0n &&
      (o.extra?.assetTransferMethod ?? 'eip3009') === 'eip3009' &&
      typeof o.extra?.name === 'string' &&
      typeof o.extra?.version === 'string' &&
      o.maxTimeoutSeconds > 0 &&
      o.maxTimeoutSeconds <= maxAuthorizationSeconds,
  )
  if (usable.length === 0) {
    const offered = required.accepts.map((o) => `${o.scheme} on ${o.network} in ${o.asset}`).join('; ')
    throw new ValidationError(
      `${url.href} offers no payment this agent can make (exact by EIP-3009 on ${network} in ${tokens.map((t) => t.symbol).join(' or ')}, valid at most ${maxAuthorizationSeconds} s): it offers ${offered || 'nothing'}.`,
    )
  }
  const option = usable.find(
    (o) => maxAmount === undefined || BigInt(o.amount) <= client.tokens.parse(maxAmount, known(o.asset)!),
  )
  if (!option) {
    const first = usable[0]!
    const token = known(first.asset)!
    throw new PolicyError(
      `${url.href} costs ${client.tokens.format(BigInt(first.amount), token)} ${token.symbol}, over the maximum of ${maxAmount}.`,
      { action: 'x402', resource: url.href },
    )
  }
  return { option, token: known(option.asset)! }
}
