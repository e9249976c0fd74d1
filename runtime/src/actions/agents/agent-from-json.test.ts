import { describe, expect, test } from 'vitest'
import type { z } from 'zod'
import { agentFromJson, agentJsonSchema } from './agent-from-json.ts'
import { jsonSchemaOf } from './describe-definition.ts'

const input = { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] }
const output = { type: 'object', properties: { poem: { type: 'string' } }, required: ['poem'] }
const model = { provider: 'ollama' as const, model: 'llama3.2' }
const poem = {
  name: 'poem',
  description: 'A poem',
  price: '1',
  token: 'dUSD',
  input,
  output,
  prompt: 'Write a poem about {{topic}}.',
}
const lookup = {
  name: 'lookup',
  description: 'Looks a topic up',
  price: '1',
  token: 'dUSD',
  input,
  webhook: 'https://owner.example/agora',
}

/** The issues of a body the route would refuse, as `path: message`. */
function problems(offering: Record<string, unknown>): string[] {
  const parsed = agentJsonSchema.safeParse({ name: 'x', model, offerings: [offering] })
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

describe('agentFromJson offerings', () => {
  test('default: a prompt offering is served by the model, a webhook one by the owner’s service', () => {
    const definition = agentFromJson({ name: 'poet', model, offerings: [poem, lookup] })
    const [byModel, byService] = definition.offerings
    expect(byModel).toMatchObject({ prompt: 'Write a poem about {{topic}}.' })
    expect(byModel?.handler).toBeUndefined()
    expect(byService).toMatchObject({ webhook: 'https://owner.example/agora' })
    expect(byService?.output).toBeUndefined()
    // The schemas are enforced, and published unchanged.
    expect(byModel?.input.safeParse({}).error?.issues).toEqual([
      expect.objectContaining({ path: ['topic'], message: 'is required' }),
    ])
    expect(byModel?.output?.safeParse({ poem: 'Leaves fall.' }).success).toBe(true)
    expect(jsonSchemaOf(byModel!.input)).toEqual(input)
  })

  test('behavior: without an input schema, any JSON object is accepted', () => {
    const definition = agentFromJson({ name: 'open', offerings: [{ ...lookup, input: undefined }] })
    const schema = definition.offerings[0]!.input as z.ZodType
    expect(schema.safeParse({ anything: [1] }).success).toBe(true)
    expect(schema.safeParse('text').success).toBe(false)
  })

  test('behavior: bad offerings are refused naming the offering and the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { ...lookup, input: { type: 'objekt' } },
        'offerings.0.input: offering "lookup": Not a valid JSON Schema:',
      ],
      [
        { ...poem, output: { type: 'object', propertys: {} } },
        'offerings.0.output: offering "poem": Not a valid JSON Schema: strict mode: unknown keyword: "propertys"',
      ],
      [
        { ...poem, prompt: 'About {{subject}}.' },
        'offerings.0.prompt: offering "poem": the template names {{subject}}, which is not a property of the input schema',
      ],
      [
        { ...poem, prompt: 'About {{ topic }}.' },
        'offerings.0.prompt: offering "poem": "{{ topic }}" is not a field',
      ],
      [{ ...poem, input: undefined }, 'offerings.0.prompt: offering "poem": the template names {{topic}}'],
      [
        { ...poem, output: undefined },
        'offerings.0.output: offering "poem": a prompt offering needs an output JSON Schema',
      ],
      [
        { ...poem, output: { type: 'string' } },
        'offerings.0.output: offering "poem": the output of a prompt offering must be an object schema',
      ],
      [
        { ...poem, webhook: lookup.webhook },
        'offerings.0.webhook: offering "poem": needs exactly one of "prompt"',
      ],
      [{ ...lookup, webhook: undefined }, 'offerings.0: offering "lookup": needs exactly one of "prompt"'],
      [
        { ...lookup, webhook: 'not a url' },
        'offerings.0.webhook: offering "lookup": the webhook is not a URL',
      ],
      [
        { ...lookup, webhook: 'http://169.254.169.254/latest' },
        'offerings.0.webhook: offering "lookup": the webhook points at 169.254.169.254: a link-local',
      ],
      [{ ...lookup, handler: 'echo' }, 'offerings.0: Unrecognized key: "handler"'],
    ]
    for (const [offering, expected] of cases) {
      const found = problems(offering)
      expect(
        found.some((p) => p.startsWith(expected)),
        `${expected}\n${found.join('\n')}`,
      ).toBe(true)
    }
  })

  test('behavior: a prompt offering needs a model on the agent', () => {
    expect(() => agentFromJson({ name: 'mute', offerings: [poem] })).toThrow(
      /offering "poem" is served by a prompt, so the agent needs a "model"/,
    )
  })
})
