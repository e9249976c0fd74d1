import { ValidationError } from '@agora/db'
import { Ajv2020, type ErrorObject, type Options, type ValidateFunction } from 'ajv/dist/2020.js'
import { z } from 'zod'
import { mayBacktrackExponentially } from './regexp-safety.ts'

/** A JSON Schema (2020-12 dialect) given as JSON, e.g. an offering's input or output over HTTP. */
export type JsonSchema = Record<string, unknown>

/** One way a value breaks a schema: where (`['items', 0, 'name']`) and why (Ajv's message). */
export type JsonSchemaIssue = { path: (string | number)[]; message: string }

/** A compiled schema: `validate` answers the issues of a value, none when it matches. */
export type CompiledJsonSchema = {
  schema: JsonSchema
  validate(value: unknown): JsonSchemaIssue[]
}

/** The largest schema accepted, as JSON text: schemas come from owners over HTTP. */
export const maxJsonSchemaLength = 32_000

/** Ajv's pattern engine, refusing patterns that may backtrack exponentially (see `regexp-safety.ts`). */
const safeRegExp: NonNullable<NonNullable<Options['code']>['regExp']> = Object.assign(
  (pattern: string, flags: string) => {
    if (mayBacktrackExponentially(pattern, flags))
      throw new Error(
        `the pattern "${pattern}" repeats a group that itself repeats, which can take exponential time; rewrite it without nested quantifiers`,
      )
    return new RegExp(pattern, flags)
  },
  { code: 'new RegExp' },
)

function newAjv() {
  return new Ajv2020({
    // Every problem of a value is listed, so a client fixes its input in one go; the cost of that
    // on hostile input is bounded by the size limits on bodies and by `safeRegExp`.
    allErrors: true,
    // Unknown keywords and ambiguous numbers are mistakes worth a 400; type hints are not.
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    // Formats are annotations, as the 2020-12 dialect says by default.
    validateFormats: false,
    // Validation never changes the value it checks.
    useDefaults: false,
    coerceTypes: false,
    removeAdditional: false,
    code: { regExp: safeRegExp },
    logger: false,
  })
}

/** Compiled schemas by their JSON text: the same schema is checked at launch, on every hire and delivery. */
const compiled = new Map<string, CompiledJsonSchema>()
const cacheSize = 512

/**
 * Compiles a JSON Schema (2020-12, strict: unknown keywords are errors; formats are annotations;
 * remote `$ref`s are not fetched) into a validator. A schema that does not compile is a
 * `ValidationError` with Ajv's message.
 *
 * @example
 * const { validate } = compileJsonSchema({ type: 'object', required: ['text'] })
 * validate({}) // [{ path: ['text'], message: "must have required property 'text'" }]
 */
export function compileJsonSchema(schema: JsonSchema): CompiledJsonSchema {
  const key = JSON.stringify(schema)
  const hit = compiled.get(key)
  if (hit) {
    compiled.delete(key)
    compiled.set(key, hit)
    return hit
  }
  if (key.length > maxJsonSchemaLength)
    throw new ValidationError(`The JSON Schema is longer than ${maxJsonSchemaLength} characters.`)
  let check: ValidateFunction
  try {
    // One Ajv per schema: two owners' schemas may use the same `$id`.
    check = newAjv().compile(schema)
  } catch (error) {
    throw new ValidationError(
      `Not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    )
  }
  // An asynchronous schema would answer a promise, which reads as "valid".
  if ((check as { $async?: unknown }).$async)
    throw new ValidationError('Not a valid JSON Schema: "$async" schemas are not supported.')
  const result: CompiledJsonSchema = {
    schema,
    validate: (value) => (check(value) ? [] : (check.errors ?? []).map(issueOf)),
  }
  compiled.set(key, result)
  if (compiled.size > cacheSize) compiled.delete(compiled.keys().next().value!)
  return result
}

/** Ajv's error as a path into the value and a message; a missing property is named in the path. */
function issueOf(error: ErrorObject): JsonSchemaIssue {
  const path: (string | number)[] = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment))
  const missing = (error.params as { missingProperty?: string }).missingProperty
  if (error.keyword === 'required' && missing !== undefined)
    return { path: [...path, missing], message: 'is required' }
  const extra = (error.params as { additionalProperty?: string }).additionalProperty
  if (error.keyword === 'additionalProperties' && extra !== undefined)
    return { path: [...path, extra], message: 'is not allowed' }
  return { path, message: error.message ?? `fails "${error.keyword}"` }
}

/** Issues as one line: `text: is required; count: must be <= 10`. */
export function describeJsonSchemaIssues(issues: readonly JsonSchemaIssue[], root = '(value)'): string {
  return issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ')
}

/**
 * A zod schema that validates with the compiled JSON Schema (Ajv's errors become zod issues with
 * their paths) and publishes that JSON Schema unchanged (`z.toJSONSchema` reads it from the
 * metadata), so an offering declared as JSON has the zod schemas every other offering has.
 *
 * @example
 * const input = zodFromJsonSchema({ type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] })
 * input.safeParse({}).error?.issues // [{ code: 'custom', path: ['topic'], message: 'is required' }]
 */
export function zodFromJsonSchema(schema: JsonSchema): z.ZodType<unknown> {
  const { validate } = compileJsonSchema(schema)
  // `$schema` is set by z.toJSONSchema itself; `id` would register the schema globally by that id.
  const { $schema: _dialect, id: _id, ...published } = schema
  return z
    .unknown()
    .superRefine((value, context) => {
      for (const issue of validate(value))
        context.addIssue({ code: 'custom', message: issue.message, path: issue.path })
    })
    .meta(published)
}
