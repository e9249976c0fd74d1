import { ValidationError } from '@agora/db'
import { describe, expect, test } from 'vitest'
import { z } from 'zod'
import { jsonSchemaOf } from './actions/agents/describe-definition.ts'
import {
  compileJsonSchema,
  describeJsonSchemaIssues,
  maxJsonSchemaLength,
  zodFromJsonSchema,
} from './json-schema.ts'

const poem = {
  type: 'object',
  properties: {
    topic: { type: 'string', minLength: 1 },
    lines: { type: 'integer', maximum: 20 },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['topic'],
  additionalProperties: false,
}

describe('compileJsonSchema', () => {
  test('default: a matching value has no issues', () => {
    expect(compileJsonSchema(poem).validate({ topic: 'autumn', lines: 4, tags: ['a'] })).toEqual([])
  })

  test('behavior: every problem is listed with its path', () => {
    const issues = compileJsonSchema(poem).validate({ lines: 40, tags: ['a', 3], rhyme: true })
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: ['topic'], message: 'is required' },
        { path: ['rhyme'], message: 'is not allowed' },
        { path: ['lines'], message: 'must be <= 20' },
        { path: ['tags', 1], message: 'must be string' },
      ]),
    )
    expect(issues).toHaveLength(4)
    expect(describeJsonSchemaIssues(issues, '(input)')).toContain('tags.1: must be string')
    expect(describeJsonSchemaIssues(compileJsonSchema(poem).validate('x'), '(input)')).toBe(
      '(input): must be object',
    )
  })

  test('behavior: the 2020-12 dialect, local $refs and $defs', () => {
    const { validate } = compileJsonSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { items: { type: 'array', prefixItems: [{ $ref: '#/$defs/name' }] } },
      $defs: { name: { type: 'string' } },
    })
    expect(validate({ items: ['a', 1] })).toEqual([])
    expect(validate({ items: [1] })).toEqual([{ path: ['items', 0], message: 'must be string' }])
  })

  test('behavior: schemas that do not compile are refused with Ajv’s message', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ type: 'objekt' }, /must be equal to one of the allowed values/],
      [{ type: 'object', propertees: {} }, /unknown keyword: "propertees"/],
      [{ $ref: 'https://evil.example/schema.json' }, /can't resolve reference/],
      [{ $schema: 'http://json-schema.org/draft-07/schema#' }, /no schema with key or ref/],
      [{ type: 'string', pattern: '(' }, /Invalid regular expression/],
      [{ $async: true, type: 'object' }, /\$async/],
    ]
    for (const [schema, message] of cases) {
      let thrown: unknown
      try {
        compileJsonSchema(schema)
      } catch (error) {
        thrown = error
      }
      expect(thrown, JSON.stringify(schema)).toBeInstanceOf(ValidationError)
      expect((thrown as Error).message, JSON.stringify(schema)).toMatch(message)
    }
  })

  test('behavior: formats are annotations, and a huge schema is refused', () => {
    expect(compileJsonSchema({ type: 'string', format: 'email' }).validate('not an email')).toEqual([])
    const huge = { type: 'object', description: 'x'.repeat(maxJsonSchemaLength) }
    expect(() => compileJsonSchema(huge)).toThrow(/longer than/)
  })

  test('behavior: two schemas with one $id do not clash', () => {
    const a = compileJsonSchema({ $id: 'https://example.com/s', type: 'string' })
    const b = compileJsonSchema({ $id: 'https://example.com/s', type: 'number' })
    expect(a.validate('x')).toEqual([])
    expect(b.validate('x')).toHaveLength(1)
  })

  test('behavior: patterns that can backtrack exponentially are refused; their time stays bounded', () => {
    expect(() => compileJsonSchema({ type: 'string', pattern: '^(a+)+$' })).toThrow(/exponential time/)
    expect(() =>
      compileJsonSchema({ type: 'object', patternProperties: { '^(\\w*x)*$': { type: 'string' } } }),
    ).toThrow(/exponential time/)
    const { validate } = compileJsonSchema({ type: 'string', pattern: '^[a-z]+(-[a-z]+)*$' })
    expect(validate('kebab-case-name')).toEqual([])
    expect(validate('Nope')).toHaveLength(1)
  })
})

describe('zodFromJsonSchema', () => {
  test('default: validates with the JSON Schema, issues carry paths', () => {
    const schema = zodFromJsonSchema(poem)
    expect(schema.safeParse({ topic: 'autumn' })).toEqual({ success: true, data: { topic: 'autumn' } })
    const parsed = schema.safeParse({ topic: '' })
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        code: 'custom',
        path: ['topic'],
        message: 'must NOT have fewer than 1 characters',
      }),
    ])
  })

  test('behavior: publishes the JSON Schema it was made from', () => {
    const { $schema: _, ...published } = z.toJSONSchema(zodFromJsonSchema(poem)) as Record<string, unknown>
    expect(published).toEqual(poem)
    expect(jsonSchemaOf(zodFromJsonSchema(poem))).toEqual(poem)
    // The model's tool is described by the same schema.
    expect(z.toJSONSchema(zodFromJsonSchema(poem), { io: 'input', unrepresentable: 'any' })).toMatchObject(
      poem,
    )
  })
})
