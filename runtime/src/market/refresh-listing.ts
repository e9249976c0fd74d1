import { agentIdentityRegistryAbi } from '@agora/contracts'
import {
  BaseError,
  getListing,
  listAgents,
  type MarketAgent,
  type MarketEndpoints,
  type MarketOfferingInput,
  skipListing,
  touchListing,
  writeListing,
} from '@agora/db'
import { type Address, type Hex, keccak256, maxUint256, toBytes, zeroAddress } from 'viem'
import { canonicalJson } from '../canonical-json.ts'
import type { RuntimeClient } from '../client.ts'
import { wrapChainError } from '../errors.ts'
import { type RegistrationFile, registrationFile } from '../views/registration-file.ts'
import {
  type FetchRegistrationFileParameters,
  fetchRegistrationFile,
  RegistrationFileRefused,
} from './fetch-registration-file.ts'

export type RefreshListingParameters = Pick<
  FetchRegistrationFileParameters,
  'timeoutMs' | 'maxBytes' | 'maxRedirects' | 'signal'
>

export type RefreshListingReturnType = {
  /**
   * `listed` (written), `unchanged` (the same file, owner and wallet as listed), `skipped` (the file
   * was refused: `reason`) or `unavailable` (the chain or the database did not answer, or the
   * refresh was stopped: nothing was written, the next refresh tries again).
   */
  status: 'listed' | 'unchanged' | 'skipped' | 'unavailable'
  reason?: string
}

/**
 * Brings one agent's market listing up to date with the chain: reads its owner, token URI and bound
 * wallet from the identity registry, then its registration file (built here for an agent hosted
 * here, fetched and checked by `fetchRegistrationFile` otherwise) and lists its offerings (price in
 * base units of the token the file names, which must be an ERC-20 of this chain or ETH; `x402` and
 * `escrow` endpoints from the file). A file that cannot be listed marks the agent skipped, with the
 * reason, and removes its offerings from the market; a log line says so when the reason is new. An
 * unchanged file (same hash) writes nothing. Never throws.
 *
 * @example
 * const { status, reason } = await refreshListing(client, '7')
 */
export async function refreshListing(
  client: Pick<RuntimeClient, 'db' | 'chain' | 'agents' | 'tokens' | 'publicUrl' | 'reputations' | 'log'>,
  chainAgentId: string,
  parameters: RefreshListingParameters = {},
): Promise<RefreshListingReturnType> {
  const say = (line: string) => client.log(`market: agent ${chainAgentId} ${printable(line)}`)
  let identity: Awaited<ReturnType<typeof readIdentity>>
  let existing: MarketAgent | undefined
  let hosted: Awaited<ReturnType<RuntimeClient['agents']['byChainId']>>
  try {
    hosted = await client.agents.byChainId(chainAgentId)
    // An agent hosted here is known from its own row: no chain read (its listing is written as its
    // launch settles, also while the chain does not answer).
    ;[identity, existing] = await Promise.all([
      hosted ? identityHere(client, hosted) : readIdentity(client, chainAgentId),
      getListing(client.db, chainAgentId),
    ])
  } catch (error) {
    const reason = error instanceof BaseError ? error.shortMessage : String(error)
    say(`not refreshed: ${reason}`)
    return { status: 'unavailable', reason }
  }
  const agentId = hosted?.id ?? null
  // Announced on the chain before its launch settled here: listed by the launch itself, in a moment.
  if (!hosted && (await launchingHere(client, identity.owner)))
    return { status: 'unavailable', reason: 'an agent of its owner is being launched here' }
  try {
    const { file, hash } = hosted
      ? await builtHere(client, hosted)
      : await fetched(client, { ...parameters, uri: identity.uri, chainAgentId })
    if (
      existing?.status === 'listed' &&
      existing.fileHash === hash &&
      existing.owner === identity.owner &&
      existing.wallet === identity.wallet &&
      existing.uri === identity.uri &&
      existing.agentId === agentId
    ) {
      await touchListing(client.db, chainAgentId)
      if (!existing.reputationAt) client.reputations.schedule(chainAgentId)
      return { status: 'unchanged' }
    }
    const listed = await writeListing(client.db, {
      chainAgentId,
      ...identity,
      agentId,
      name: file.name,
      description: file.description,
      active: file.active,
      file,
      fileHash: hash,
      offerings: await offeringsOf(client, file),
    })
    // Its record, read once now, then after each settlement that names it.
    if (!listed.reputationAt) client.reputations.schedule(chainAgentId)
    return { status: 'listed' }
  } catch (error) {
    if (parameters.signal?.aborted) return { status: 'unavailable', reason: 'the refresh was stopped' }
    if (!(error instanceof RegistrationFileRefused)) {
      const reason = error instanceof BaseError ? error.shortMessage : String(error)
      say(`not refreshed: ${reason}`)
      return { status: 'unavailable', reason }
    }
    const reason = error.shortMessage
    try {
      await skipListing(client.db, { chainAgentId, ...identity, agentId, error: reason })
    } catch (cause) {
      say(`not refreshed: ${cause instanceof BaseError ? cause.shortMessage : String(cause)}`)
      return { status: 'unavailable', reason }
    }
    if (existing?.error !== reason && !error.quiet)
      say(`skipped, its registration file ${JSON.stringify(identity.uri.slice(0, 200))} refused: ${reason}`)
    return { status: 'skipped', reason }
  }
}

/** Whether an agent of `owner` is being launched here (its chain id is not known here yet). */
async function launchingHere(client: Pick<RuntimeClient, 'db'>, owner: string): Promise<boolean> {
  const launching = await listAgents(client.db, { owner, status: 'launching' }).catch(() => [])
  return launching.length > 0
}

/** The agent's owner, token URI and bound wallet (null when none is bound), from the registry. */
async function readIdentity(client: Pick<RuntimeClient, 'chain'>, chainAgentId: string) {
  const { publicClient, contracts } = client.chain
  const read = <name extends 'ownerOf' | 'tokenURI' | 'getAgentWallet'>(functionName: name) =>
    publicClient.readContract({
      address: contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName,
      args: [BigInt(chainAgentId)],
    } as never) as Promise<name extends 'tokenURI' ? string : Address>
  const [owner, uri, wallet] = await Promise.all([
    read('ownerOf'),
    read('tokenURI'),
    read('getAgentWallet'),
  ]).catch((error: unknown) => {
    throw wrapChainError(error, `Reading agent ${chainAgentId}'s identity`)
  })
  return {
    owner: owner.toLowerCase(),
    uri,
    wallet: wallet === zeroAddress ? null : wallet.toLowerCase(),
  }
}

/** The owner, token URI and wallet of an agent hosted here, as its row has them. */
function identityHere(
  client: Pick<RuntimeClient, 'publicUrl'>,
  agent: NonNullable<Awaited<ReturnType<RuntimeClient['agents']['byChainId']>>>,
) {
  return {
    owner: agent.owner.toLowerCase(),
    uri: client.publicUrl ? `${client.publicUrl}/registration/${agent.chainAgentId}` : '',
    wallet: agent.safeAddress?.toLowerCase() ?? null,
  }
}

/** The file of an agent hosted here, as the API serves it: no HTTP request to ourselves. */
async function builtHere(
  client: Pick<RuntimeClient, 'chain' | 'tokens' | 'publicUrl'>,
  agent: NonNullable<Awaited<ReturnType<RuntimeClient['agents']['byChainId']>>>,
): Promise<{ file: RegistrationFile; hash: Hex }> {
  const file = await registrationFile(client, agent)
  return { file, hash: keccak256(toBytes(canonicalJson(file))) }
}

async function fetched(
  client: Pick<RuntimeClient, 'chain' | 'publicUrl'>,
  parameters: FetchRegistrationFileParameters,
): Promise<{ file: RegistrationFile; hash: Hex }> {
  // The registry's base URI names this runtime's files: an agent not (yet) hosted here has none,
  // which is the case of every agent of ours between its launch and its settlement.
  if (client.publicUrl && parameters.uri.startsWith(`${client.publicUrl}/registration/`))
    throw new RegistrationFileRefused(
      `names this runtime's registration files, but no agent hosted here has on-chain id ${parameters.chainAgentId}`,
      { quiet: true },
    )
  return fetchRegistrationFile(client, parameters)
}

/**
 * The file's offerings as the market stores them. A price must be in a token of this chain (ETH, or
 * a contract that answers `decimals()`) with the decimals the file claims, and fit in uint256.
 */
async function offeringsOf(
  client: Pick<RuntimeClient, 'tokens'>,
  file: RegistrationFile,
): Promise<MarketOfferingInput[]> {
  const escrow = httpUrl(file.services.find((s) => s.name === 'agora')?.endpoint)
  return Promise.all(
    file.offerings.map(async (o) => {
      const refuse = (why: string) => new RegistrationFileRefused(`offering "${o.name}": ${why}`)
      const token = await client.tokens.resolve(o.price.token).catch(() => {
        throw refuse(`its price is in ${o.price.token}, which is not a token of this chain`)
      })
      if (token.decimals !== o.price.decimals)
        throw refuse(
          `its price says ${o.price.decimals} decimals, but ${o.price.token} has ${token.decimals}`,
        )
      if (BigInt(o.price.value) > maxUint256) throw refuse('its price does not fit in uint256')
      const x402 = httpUrl(o.x402)
      const endpoints: MarketEndpoints = { ...(x402 ? { x402 } : {}), ...(escrow ? { escrow } : {}) }
      return {
        name: o.name,
        description: o.description,
        price: o.price.value,
        token: token.address,
        inputSchema: o.inputSchema,
        outputSchema: o.outputSchema,
        capabilities: o.capabilities,
        endpoints,
      }
    }),
  )
}

/** `value` when it is an http(s) URL: the only endpoints the market hands on. */
function httpUrl(value: string | null | undefined): string | undefined {
  if (!value) return undefined
  try {
    const url = new URL(value)
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : undefined
  } catch {
    return undefined
  }
}

/** A log line holds what a file's host chose to send: never control characters. */
function printable(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return line.replace(/[\u0000-\u001f\u007f]/g, '?')
}
