import type { AgentCard } from '@a2a-js/sdk'
import { moneySchema, type RegistrationFile } from '@agora/runtime'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { AppEnv } from '../env.ts'
import { jsonResponse } from '../openapi.ts'
import { problems } from '../problem.ts'
import { chainAgentParams } from '../schemas.ts'

/**
 * The a2a-x402 extension (v0.2), as its specification names it
 * (google-agentic-commerce/a2a-x402, `spec/v0.2/spec.md`, "Extension URI").
 */
export const x402ExtensionUri = 'https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2'

/** The A2A protocol version of the card (`A2A_PROTOCOL_VERSION` of `@a2a-js/sdk` 1.x). */
const a2aProtocolVersion = '1.0'
const json = ['application/json']

const x402SkillSchema = z.object({
  id: z.string().describe('The skill (the offering it stands for).'),
  resource: z.string().describe('The x402 resource: POST the input here and pay the 402 it answers.'),
  price: moneySchema,
})

const agentExtensionSchema = z.object({
  uri: z.string(),
  description: z.string(),
  required: z.boolean(),
  params: z
    .object({
      x402Version: z.number().int(),
      network: z.string().describe('CAIP-2 id of the chain payments settle on, e.g. `eip155:31337`.'),
      skills: z.array(x402SkillSchema),
    })
    .describe('The x402 extension: where each skill is sold over HTTP, and its price per task.'),
})

const agentSkillSchema = z.object({
  id: z.string().describe('The offering name: what clients hire it by.'),
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()).describe("The offering's capabilities."),
  examples: z.array(z.string()),
  inputModes: z.array(z.string()),
  outputModes: z.array(z.string()),
  securityRequirements: z.array(z.record(z.string(), z.unknown())),
})

export const agentCardSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    supportedInterfaces: z
      .array(
        z.object({
          url: z.string(),
          protocolBinding: z.string(),
          tenant: z.string(),
          protocolVersion: z.string(),
        }),
      )
      .describe('The A2A JSON-RPC endpoint. Not served yet: buy tasks through x402 or the escrow.'),
    version: z.string(),
    capabilities: z.object({
      streaming: z.boolean(),
      pushNotifications: z.boolean(),
      extendedAgentCard: z.boolean(),
      extensions: z.array(agentExtensionSchema),
    }),
    securitySchemes: z.record(z.string(), z.unknown()),
    securityRequirements: z.array(z.record(z.string(), z.unknown())),
    defaultInputModes: z.array(z.string()),
    defaultOutputModes: z.array(z.string()),
    skills: z.array(agentSkillSchema).describe('One skill per offering.'),
    signatures: z.array(z.record(z.string(), z.unknown())),
  })
  .meta({
    id: 'AgentCard',
    description: "A hosted agent's A2A v1 agent card, built from its registration file.",
  })

export type AgentCardView = z.infer<typeof agentCardSchema>

const routes = {
  card: createRoute({
    method: 'get',
    path: '/agents/{chainAgentId}/.well-known/agent-card.json',
    summary: "The agent's A2A agent card (its registration file lists it as the A2A service)",
    description:
      'One skill per offering; the x402 extension gives each skill its x402 resource and price. The A2A JSON-RPC endpoint the card names is not served yet: tasks are bought over x402 or through the escrow (`POST /agents/{id}/hire`).',
    tags: ['market'],
    request: {
      params: chainAgentParams,
    },
    responses: { 200: jsonResponse(agentCardSchema, 'The agent card'), ...problems(404) },
  }),
}

/** Hosted agents' A2A agent cards (`GET /agents/{chainAgentId}/.well-known/agent-card.json`). */
export function a2aRouter() {
  const app = new OpenAPIHono<AppEnv>()
  app.openapi(routes.card, async (c) => {
    const file = await c.var.runtime.registrationFile(c.req.valid('param').chainAgentId)
    return c.json(agentCard(file, { chainId: c.var.runtime.chainId, requestUrl: c.req.url }), 200)
  })
  return app
}

/**
 * The A2A v1 agent card of an agent, from its registration file: one skill per offering, and the
 * x402 extension listing each skill's x402 resource and price. The card's URL is the one the file
 * lists as its `A2A` service; a runtime without a public URL lists none, and the card is then where
 * it was asked for (`requestUrl`).
 *
 * @example
 * agentCard(await runtime.registrationFile('7'), { chainId: 31337, requestUrl })
 */
export function agentCard(
  file: RegistrationFile,
  context: { chainId: number; requestUrl: string },
): AgentCardView {
  const cardUrl = file.services.find((s) => s.name === 'A2A')?.endpoint ?? context.requestUrl
  // The JSON-RPC endpoint is the agent's `a2a`, beside the card's folder (the runtime's `agentUrls`).
  const endpoint = new URL('../a2a', cardUrl).href
  const sold = file.offerings.flatMap((o) =>
    o.x402 ? [{ id: o.name, resource: o.x402, price: o.price }] : [],
  )
  const purchase =
    'Tasks are bought over x402 (each skill has its resource, see the x402 extension) or through the Agora escrow; the A2A JSON-RPC endpoint named here is not served yet.'
  const card = {
    name: file.name,
    description: file.description ? `${file.description}\n\n${purchase}` : purchase,
    supportedInterfaces: [
      { url: endpoint, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: a2aProtocolVersion },
    ],
    // Agora does not version agents: the card is built from the agent as it is now.
    version: '1.0.0',
    provider: undefined,
    capabilities: {
      streaming: false,
      pushNotifications: false,
      extendedAgentCard: false,
      extensions:
        sold.length > 0
          ? [
              {
                uri: x402ExtensionUri,
                description:
                  'Each skill is sold over x402 (v2, HTTP): POST its input to the resource and pay the 402 it answers, at the price given per task.',
                // A client that does not speak x402 can still hire the agent through the escrow.
                required: false,
                params: { x402Version: 2, network: `eip155:${context.chainId}`, skills: sold },
              },
            ]
          : [],
    },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: json,
    defaultOutputModes: json,
    skills: file.offerings.map((o) => ({
      id: o.name,
      name: o.name,
      description: o.description,
      tags: o.capabilities,
      examples: [],
      inputModes: json,
      outputModes: json,
      securityRequirements: [],
    })),
    signatures: [],
  } satisfies AgentCard
  return card
}
