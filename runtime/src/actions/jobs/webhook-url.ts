import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP } from 'node:net'
import { ValidationError } from '@agora/db'

/**
 * Where the runtime may POST an owner's jobs. A webhook URL is chosen by whoever launches an
 * agent, and the answer becomes a deliverable its client reads: without limits, an owner could
 * make the runtime fetch from its own network (server-side request forgery). So:
 * - never link-local addresses (169.254.0.0/16 holds the clouds' metadata services, fe80::/10),
 *   unspecified, multicast or broadcast ones, nor the runtime's own public URL;
 * - on a real chain, https only and only public addresses (no loopback, private, shared or
 *   unique-local ranges);
 * - on the devnet (a development chain: its agents are owned by development accounts), http and
 *   loopback or private addresses too, so a receiver on the same machine works.
 * Host names are checked again on every request, on the addresses they resolve to (a name that
 * resolved to a public address at launch may not later), and redirects are not followed.
 */
export type WebhookScope = {
  /** The runtime runs on a development chain (see `isDevelopmentChain`). */
  devnet: boolean
  /** The runtime's own public URL, which no webhook may point at. */
  publicUrl?: string
}

/** Chain ids of local development chains: anvil's and hardhat's (the devnet's), ganache's. */
const developmentChains = new Set([31337, 1337])

/**
 * Whether `chainId` is a local development chain, where webhooks may use http and private addresses.
 *
 * @example
 * isDevelopmentChain(client.chain.chainId) // true on the devnet (31337)
 */
export function isDevelopmentChain(chainId: number): boolean {
  return developmentChains.has(chainId)
}

const never = new BlockList()
never.addSubnet('0.0.0.0', 8, 'ipv4') // "this network", unspecified
never.addSubnet('169.254.0.0', 16, 'ipv4') // link-local: cloud metadata services
never.addSubnet('224.0.0.0', 4, 'ipv4') // multicast
never.addSubnet('240.0.0.0', 4, 'ipv4') // reserved, broadcast
never.addAddress('::', 'ipv6')
never.addSubnet('fe80::', 10, 'ipv6') // link-local
never.addSubnet('ff00::', 8, 'ipv6') // multicast
never.addAddress('fd00:ec2::254', 'ipv6') // a cloud metadata service over IPv6

const publicOnly = new BlockList()
publicOnly.addSubnet('127.0.0.0', 8, 'ipv4') // loopback
publicOnly.addSubnet('10.0.0.0', 8, 'ipv4')
publicOnly.addSubnet('172.16.0.0', 12, 'ipv4')
publicOnly.addSubnet('192.168.0.0', 16, 'ipv4')
publicOnly.addSubnet('100.64.0.0', 10, 'ipv4') // shared address space (carrier-grade NAT)
publicOnly.addSubnet('198.18.0.0', 15, 'ipv4') // benchmarking
publicOnly.addAddress('::1', 'ipv6')
publicOnly.addSubnet('fc00::', 7, 'ipv6') // unique local

/** An IPv4 address hidden in an IPv6 one (`::ffff:169.254.169.254`, `::ffff:a9fe:a9fe`), if any. */
function embeddedIPv4(address: string): string | undefined {
  const match = /^(?:0*:)*:?ffff:(.+)$/i.exec(address) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  if (!match) return undefined
  const tail = match[1]!
  if (isIP(tail) === 4) return tail
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail)
  if (!hex) return undefined
  const [high, low] = [Number.parseInt(hex[1]!, 16), Number.parseInt(hex[2]!, 16)]
  return [high >> 8, high & 255, low >> 8, low & 255].join('.')
}

/**
 * Why the runtime will not connect to `address` (an IP address) for a webhook, if it will not.
 *
 * @example
 * addressProblem('169.254.169.254', { devnet: true }) // 'a link-local or reserved address'
 */
export function addressProblem(address: string, scope: WebhookScope): string | undefined {
  const v4 = isIP(address) === 6 ? embeddedIPv4(address) : undefined
  const [ip, family] = v4
    ? [v4, 'ipv4' as const]
    : [address, isIP(address) === 6 ? ('ipv6' as const) : ('ipv4' as const)]
  if (isIP(ip) === 0) return 'not an IP address'
  if (never.check(ip, family)) return `${address}: a link-local, unspecified, multicast or reserved address`
  if (!scope.devnet && publicOnly.check(ip, family))
    return `${address}: a loopback or private address (allowed on the devnet only)`
  return undefined
}

/**
 * Why `url` cannot be a webhook in `scope`, if it cannot: checked at launch and before each request
 * (a host name's addresses are checked when it is resolved, see `webhookLookup`).
 *
 * @example
 * webhookUrlProblem('http://hooks.example/agora', { devnet: false }) // 'must use https outside the devnet'
 */
export function webhookUrlProblem(url: string, scope: WebhookScope): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'is not a URL'
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must be an http(s) URL'
  if (parsed.protocol === 'http:' && !scope.devnet) return 'must use https outside the devnet'
  const host = parsed.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host)) {
    const problem = addressProblem(host, scope)
    if (problem) return `points at ${problem}`
  } else if (!scope.devnet && /(^|\.)localhost$|^metadata(\.|$)/i.test(host)) {
    return `points at ${host}, a local or metadata host name`
  }
  if (scope.publicUrl && sameOrigin(parsed, scope.publicUrl)) return "points at the runtime's own API"
  return undefined
}

function sameOrigin(url: URL, other: string): boolean {
  try {
    return new URL(other).origin === url.origin
  } catch {
    return false
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void

/**
 * A `lookup` for `http.request` that resolves a host name and refuses it when any of its addresses
 * is out of `scope`, so the address connected to is the address checked (no rebinding in between).
 * `what` names the host in the refusal (registration files use the same rules as webhooks).
 *
 * @example
 * http.request(url, { lookup: webhookLookup({ devnet: false }) })
 */
export function webhookLookup(scope: WebhookScope, what = 'webhook') {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (error, addresses) => {
      if (error) return callback(error, [])
      const refused = addresses.map((a) => addressProblem(a.address, scope)).find(Boolean)
      if (refused || addresses.length === 0) {
        const failure: NodeJS.ErrnoException = new Error(
          `The ${what} host ${hostname} resolves to ${refused ?? 'no address'}.`,
        )
        failure.code = 'EWEBHOOKADDRESS'
        return callback(failure, [])
      }
      if (options.all) return callback(null, addresses)
      return callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
}

/**
 * Refuses an agent whose webhooks this runtime will not call (see `WebhookScope`): at launch and on
 * every change, so an owner learns it then, not from a declined job.
 *
 * @example
 * checkWebhooks(client, definition) // throws a ValidationError naming offerings.N.webhook
 */
export function checkWebhooks(
  client: { chain: { chainId: number }; publicUrl: string | undefined },
  definition: { name: string; offerings: { name: string; webhook?: string }[] },
): void {
  const scope = { devnet: isDevelopmentChain(client.chain.chainId), publicUrl: client.publicUrl }
  const issues = definition.offerings.flatMap((o, i) => {
    const problem = o.webhook === undefined ? undefined : webhookUrlProblem(o.webhook, scope)
    return problem
      ? [
          {
            path: ['offerings', String(i), 'webhook'],
            message: `offering "${o.name}": the webhook ${problem}`,
          },
        ]
      : []
  })
  if (issues.length === 0) return
  throw new ValidationError(
    `The agent "${definition.name}" is invalid: ${issues.map((i) => i.message).join('; ')}.`,
    { meta: { issues } },
  )
}
