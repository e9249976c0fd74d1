import { parseAbi } from 'viem'
import type { RuntimeClient } from '../client.ts'

// Written out rather than taken from the generated ABI: registries deployed before `baseURI()`
// existed answer only the event.
const baseURIAbi = parseAbi(['function baseURI() view returns (string)', 'event BaseURISet(string baseURI)'])

/**
 * The registry's base URI (what token URIs of agents without one of their own start with): its
 * `baseURI()`, or the last `BaseURISet` on a registry without that view; undefined when neither
 * answers.
 *
 * @example
 * await readBaseURI(client) // 'http://localhost:3000/registration/'
 */
export async function readBaseURI(client: Pick<RuntimeClient, 'chain'>): Promise<string | undefined> {
  const { publicClient, contracts, manifest } = client.chain
  const address = contracts.identityRegistry
  const viewed = await publicClient
    .readContract({ address, abi: baseURIAbi, functionName: 'baseURI' })
    .catch(() => undefined)
  if (viewed !== undefined) return viewed
  const logs = await publicClient
    .getContractEvents({
      address,
      abi: baseURIAbi,
      eventName: 'BaseURISet',
      fromBlock: BigInt(manifest.deploymentBlock),
    })
    .catch(() => undefined)
  return logs ? (logs.at(-1)?.args.baseURI ?? '') : undefined
}

/**
 * How agents launched here get their token URI: '' (the registry's base URI followed by the agent's
 * on-chain id already names `<publicUrl>/registration/<id>`), or, when the registry's base URI names
 * another place (another runtime's API, say), `<publicUrl>/registration/<runtime id>` of their own,
 * which this runtime's API serves too. Without a public URL, ''. When the base URI cannot be read,
 * a URI of their own: it is right in every case.
 *
 * @example
 * const uriOf = await launchURI(client)
 * uriOf(agent.id) // '' or 'https://agora.example/registration/agt_…'
 */
export async function launchURI(
  client: Pick<RuntimeClient, 'chain' | 'publicUrl'>,
): Promise<(agentId: string) => string> {
  const { publicUrl } = client
  if (!publicUrl) return () => ''
  const base = `${publicUrl}/registration/`
  if ((await cachedBaseURI(client)) === base) return () => ''
  return (agentId) => `${base}${agentId}`
}

/** How long a base URI read is trusted: launches do not each wait for the chain (which may be down). */
const baseURITtlMs = 5 * 60_000
const baseURIs = new WeakMap<object, { value: string; at: number }>()

async function cachedBaseURI(client: Pick<RuntimeClient, 'chain'>): Promise<string | undefined> {
  const known = baseURIs.get(client.chain)
  if (known && Date.now() - known.at < baseURITtlMs) return known.value
  const value = await readBaseURI(client)
  if (value !== undefined) baseURIs.set(client.chain, { value, at: Date.now() })
  return value ?? known?.value
}
