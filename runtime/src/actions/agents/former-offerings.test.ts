import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { defineAgent, type Offering } from '../../define-agent.ts'
import { type HostedDefinition, offeringForJob } from './former-offerings.ts'

const version = (name: string, price: string): Offering => ({
  name,
  description: `${name} at ${price}`,
  price,
  token: 'dUSD',
  input: z.unknown(),
  handler: () => price,
})

describe('offeringForJob', () => {
  const firstChange = new Date('2026-01-01T10:00:00Z')
  const secondChange = new Date('2026-01-01T12:00:00Z')
  const definition: HostedDefinition = {
    ...defineAgent({ name: 'poet', offerings: [version('poem', '3')] }),
    // poem cost 1 until the first change, 2 until the second; haiku was retired at the second.
    formerOfferings: [
      { offering: version('poem', '2'), until: secondChange },
      { offering: version('poem', '1'), until: firstChange },
      { offering: version('haiku', '1'), until: secondChange },
    ],
  }
  const at = (offering: string, iso: string) =>
    offeringForJob(definition, { offering, createdAt: new Date(iso) })?.price

  test('default: a job hired after every change is served by the current offering', () => {
    expect(at('poem', '2026-01-01T13:00:00Z')).toBe('3')
  })

  test('behavior: a job hired before a change is served by the version it was hired on', () => {
    expect(at('poem', '2026-01-01T09:00:00Z')).toBe('1')
    expect(at('poem', '2026-01-01T11:00:00Z')).toBe('2')
    expect(at('haiku', '2026-01-01T11:00:00Z')).toBe('1')
  })

  test('behavior: a retired offering serves no job hired after it was retired', () => {
    expect(at('haiku', '2026-01-01T12:30:00Z')).toBeUndefined()
    expect(at('sonnet', '2026-01-01T09:00:00Z')).toBeUndefined()
  })
})
