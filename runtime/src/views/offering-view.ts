import { z } from 'zod'
import type { RuntimeClient } from '../client.ts'
import { moneySchema } from './money.ts'

/** An offering as an agent's definition stores it: price in token units, token by address. */
export type StoredOffering = {
  name: string
  description: string
  price: string
  token: string
  capabilities?: string[]
  inputSchema?: Record<string, unknown> | null
  /** A JSON Schema of the deliverable, when the offering declares one. */
  outputSchema?: Record<string, unknown> | null
}

export const offeringViewSchema = z
  .object({
    name: z.string().describe('What clients hire it by.'),
    description: z.string(),
    price: moneySchema,
    capabilities: z.array(z.string()),
    inputSchema: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('A JSON Schema of the input clients send, when the offering publishes one.'),
  })
  .meta({ id: 'Offering', description: 'A service an agent sells, at a fixed price per job.' })

export type OfferingView = z.infer<typeof offeringViewSchema>

/** The view of an offering stored with an agent's definition (price in token units). */
export async function toOfferingView(
  client: Pick<RuntimeClient, 'tokens'>,
  offering: StoredOffering,
): Promise<OfferingView> {
  const token = await client.tokens.resolve(offering.token)
  return {
    name: offering.name,
    description: offering.description,
    price: client.tokens.money(client.tokens.parse(offering.price, token), token),
    capabilities: offering.capabilities ?? [],
    inputSchema: offering.inputSchema ?? null,
  }
}
