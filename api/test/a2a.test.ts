import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { A2A_PROTOCOL_VERSION, AGENT_CARD_PATH, type AgentCard } from '@a2a-js/sdk'
import { ClientFactory, DefaultAgentCardResolver } from '@a2a-js/sdk/client'
import type { WebhookReceiver } from '@agora/agents'
import { type EmbeddedRuntime, type RegistrationFile, startEmbeddedRuntime } from '@agora/runtime'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp } from '../src/app.ts'
import { agentCardSchema, x402ExtensionUri } from '../src/routes/a2a.ts'
import { apiHelpers, domain, origin, problemOf } from './harness.ts'
import { startSellerService } from './webhook.ts'

type Launched = { id: string; chainAgentId: string }

let embedded: EmbeddedRuntime
let api: ReturnType<typeof apiHelpers>
let server: ReturnType<typeof serve>
let service: WebhookReceiver
/** Where the API listens; the runtime's public URL, so registration files name real addresses. */
let publicUrl: string
let seller: Launched // sells `summarize` and `translate`
let buyer: Launched // sells nothing

const resolver = new DefaultAgentCardResolver()

/** The agent's card, read as A2A clients read it: the SDK's resolver, over HTTP, at the well-known path. */
function cardOf(agent: Launched): Promise<AgentCard> {
  return resolver.resolve(`${publicUrl}/agents/${agent.chainAgentId}/`)
}

async function registrationOf(agent: Launched): Promise<RegistrationFile> {
  const response = await fetch(`${publicUrl}/registration/${agent.chainAgentId}`)
  expect(response.status).toBe(200)
  return (await response.json()) as RegistrationFile
}

async function launch(body: unknown, token: string): Promise<Launched> {
  const response = await api.call('POST', '/agents', body, token)
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Launched
}

beforeAll(async () => {
  // The runtime names its agents' URLs under its public URL, known only once the server listens:
  // the server answers through the app built after it.
  let app: ReturnType<typeof createApp> | undefined
  server = serve({ fetch: (request) => app!.fetch(request), port: 0, hostname: '127.0.0.1' })
  await once(server, 'listening')
  publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  ;[embedded, service] = await Promise.all([
    startEmbeddedRuntime({ publicUrl, log: () => {} }),
    startSellerService(),
  ])
  app = createApp({ runtime: embedded.runtime, db: embedded.db, domain, origin, log: () => {} })
  api = apiHelpers(app, embedded.devnet)
  const owner = await api.signIn(2)
  seller = await launch(
    {
      name: 'seller',
      description: 'Summarizes and translates text',
      offerings: [
        {
          name: 'summarize',
          description: 'Summarizes a text',
          price: '1',
          token: 'dUSD',
          capabilities: ['summarize', 'text'],
          input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
          webhook: service.url,
        },
        {
          name: 'translate',
          description: 'Translates a text into French',
          price: '0.25',
          token: 'dUSD',
          capabilities: ['translate'],
          output: { type: 'object', properties: { text: { type: 'string' } } },
          webhook: service.url,
        },
      ],
    },
    owner.token,
  )
  buyer = await launch({ name: 'buyer', policy: { perJobCap: '5' } }, owner.token)
})
afterAll(async () => {
  server?.close()
  await embedded?.stop()
  await service?.close()
})

describe('GET /agents/{chainAgentId}/.well-known/agent-card.json', () => {
  test('default: one skill per offering, the x402 extension with each skill’s resource and price', async () => {
    const [card, file] = await Promise.all([cardOf(seller), registrationOf(seller)])
    const agent = `${publicUrl}/agents/${seller.chainAgentId}`
    expect(card).toMatchObject({
      name: 'seller',
      description: expect.stringMatching(/^Summarizes and translates text\n\n.*x402.*escrow/s),
      version: '1.0.0',
      supportedInterfaces: [
        {
          url: `${agent}/a2a`,
          protocolBinding: 'JSONRPC',
          tenant: '',
          protocolVersion: A2A_PROTOCOL_VERSION,
        },
      ],
      capabilities: { streaming: false, pushNotifications: false, extendedAgentCard: false },
      defaultInputModes: ['application/json'],
      defaultOutputModes: ['application/json'],
      securitySchemes: {},
      securityRequirements: [],
      signatures: [],
    })
    expect(card.skills).toEqual(
      file.offerings.map((offering) => ({
        id: offering.name,
        name: offering.name,
        description: offering.description,
        tags: offering.capabilities,
        examples: [],
        inputModes: ['application/json'],
        outputModes: ['application/json'],
        securityRequirements: [],
      })),
    )
    expect(card.skills.map((skill) => [skill.id, skill.tags])).toEqual([
      ['summarize', ['summarize', 'text']],
      ['translate', ['translate']],
    ])

    expect(card.capabilities!.extensions).toEqual([
      {
        uri: x402ExtensionUri,
        description: expect.stringContaining('x402'),
        required: false,
        params: {
          x402Version: 2,
          network: `eip155:${api.chainId}`,
          skills: [
            {
              id: 'summarize',
              resource: `${agent}/offerings/summarize`,
              price: {
                value: '1000000',
                decimals: 6,
                token: embedded.devnet.manifest.contracts.devUSD.toLowerCase(),
                symbol: 'dUSD',
                formatted: '1',
              },
            },
            {
              id: 'translate',
              resource: `${agent}/offerings/translate`,
              price: expect.objectContaining({ value: '250000', symbol: 'dUSD', formatted: '0.25' }),
            },
          ],
        },
      },
    ])
    // What the OpenAPI document says the route answers, x402 extension included.
    expect(agentCardSchema.safeParse(card).error).toBeUndefined()
    // The prices and resources are the registration file's.
    expect(card.capabilities!.extensions[0]!.params!.skills).toEqual(
      file.offerings.map((offering) => ({
        id: offering.name,
        resource: offering.x402,
        price: offering.price,
      })),
    )
  })

  test('behavior: the registration file’s A2A service is the card; the SDK’s client takes it', async () => {
    const file = await registrationOf(seller)
    const a2a = file.services.find((s) => s.name === 'A2A')
    expect(a2a).toEqual({
      name: 'A2A',
      endpoint: `${publicUrl}/agents/${seller.chainAgentId}/${AGENT_CARD_PATH}`,
      version: '1.0',
    })
    // A full card URL with an empty path, as the SDK documents for cards away from a site's root.
    const client = await new ClientFactory().createFromUrl(a2a!.endpoint, '')
    expect(client.protocolVersion).toBe(A2A_PROTOCOL_VERSION)
    const card = await client.getAgentCard()
    expect(card).toEqual(await cardOf(seller))
    expect(card.name).toBe(file.name)
  })

  test('behavior: an agent without offerings has no skills and declares no x402 extension', async () => {
    const card = await cardOf(buyer)
    expect(card.skills).toEqual([])
    expect(card.capabilities!.extensions).toEqual([])
    expect(card.description).toMatch(/not served yet/)
  })

  test('behavior: the runtime id addresses the same card', async () => {
    const response = await api.app.request(`/agents/${seller.id}/.well-known/agent-card.json`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(await cardOf(seller))
  })

  test('error: an unknown agent is a 404 problem; the resolver refuses it', async () => {
    const problem = await problemOf(await api.app.request('/agents/999999/.well-known/agent-card.json'))
    expect(problem).toMatchObject({ status: 404, code: 'NOT_FOUND' })
    await expect(resolver.resolve(`${publicUrl}/agents/999999/`)).rejects.toThrow(/404/)
  })
})
