import { createHash } from 'node:crypto'
import { tables } from '@agora/db'
import fc from 'fast-check'
import { createPublicClient, erc20Abi, http } from 'viem'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startTestApi, type TestApi } from './harness.ts'
import { startSellerService } from './webhook.ts'

// The issue's fuzz suite: requests generated from /openapi.json itself (valid-ish and broken bodies,
// params, queries and headers, signed in and not) against every route, plus the findings' cases.
// Required: no 5xx, no request that hangs, and nothing changed by a request that was refused.

type Schema = Record<string, unknown>
type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: Schema }
type Operation = {
  parameters?: Parameter[]
  requestBody?: { content: Record<string, { schema: Schema }> }
  responses: Record<string, unknown>
}
type Document = {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Schema> }
}
type Launched = { id: string; chainAgentId: string; safe: string }
type Who = 'none' | 'owner' | 'stranger' | 'revoked' | 'garbage'
type Plan = {
  method: string
  template: string
  params: Record<string, string>
  query: string
  who: Who
  headers: Record<string, string>
  body: { text: string; type: string | null } | undefined
}

const SEED = 20_251_110
// FUZZ_REQUESTS changes the count while working on the suite; CI runs the default.
const GENERATED = Number(process.env.FUZZ_REQUESTS ?? 5_000)
const TIMEOUT_MS = 10_000

let api: TestApi
let service: Awaited<ReturnType<typeof startSellerService>> // the seller's service: answers { received: input }
let document: Document
let owner: { token: string; address: string }
let stranger: { token: string; address: string }
let revoked: string
let buyer: Launched
let seller: Launched
let spare: Launched
let jobId: string
let paymentId: string

// ---------------------------------------------------------------- generation from the document

const resolve = (schema: Schema): Schema => {
  const ref = schema.$ref as string | undefined
  return ref ? resolve(document.components.schemas[ref.split('/').at(-1)!]!) : schema
}

/** Values a field of this name takes when it should reach past validation (real ids, small amounts). */
function hint(name: string): fc.Arbitrary<unknown> | undefined {
  switch (name) {
    case 'to':
    case 'provider':
      return fc.constantFrom(seller.chainAgentId, buyer.chainAgentId, spare.chainAgentId, '999999', 0)
    case 'offering':
      return fc.constantFrom('echo', 'nope')
    case 'amount':
    case 'maxPrice':
    case 'price':
      return fc.constantFrom('0.000001', '0.01', '0.5', '1', '2', '1000000', '0', '0.0000001')
    case 'token':
      return fc.constantFrom('dUSD', 'ETH', 'NOPE', `0x${'1'.repeat(40)}`)
    case 'name':
      return fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
    case 'owner':
    case 'evaluator':
      return fc.constantFrom(owner.address, stranger.address, `0x${'0'.repeat(40)}`)
    default:
      return undefined
  }
}

/** An arbitrary of values that fit `schema` (roughly: the point is to reach the code behind it). */
function arbitraryOf(raw: Schema, depth = 0, name = ''): fc.Arbitrary<unknown> {
  const schema = resolve(raw)
  const hinted = hint(name)
  if (hinted)
    return fc.oneof({ weight: 3, arbitrary: hinted }, { weight: 1, arbitrary: plain(schema, depth) })
  return plain(schema, depth)
}

function plain(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  const anyOf = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined
  if (anyOf) return fc.oneof(...anyOf.map((s) => arbitraryOf(s, depth + 1)))
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]))
  if ('const' in schema) return fc.constant(schema.const)
  const type = Array.isArray(schema.type) ? (schema.type as string[])[0] : (schema.type as string | undefined)
  switch (type) {
    case 'string': {
      const maxLength = Math.min((schema.maxLength as number | undefined) ?? 40, 80)
      const minLength = (schema.minLength as number | undefined) ?? 0
      if (schema.pattern) {
        try {
          const matching = fc.stringMatching(new RegExp(schema.pattern as string))
          const declared = schema.maxLength as number | undefined
          // Cut to the declared length rather than filtered: a filter that rarely passes never ends.
          return declared === undefined ? matching : matching.map((s) => s.slice(0, declared))
        } catch {}
      }
      if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString())
      return fc.string({ minLength, maxLength })
    }
    case 'integer':
      return fc.integer({
        min: (schema.minimum as number | undefined) ?? -1_000,
        max: (schema.maximum as number | undefined) ?? 1_000_000,
      })
    case 'number':
      return fc.double({ noNaN: true, min: (schema.minimum as number | undefined) ?? -1e6, max: 1e9 })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array': {
      if (depth > 3) return fc.constant([])
      return fc.array(arbitraryOf((schema.items as Schema) ?? {}, depth + 1), { maxLength: 3 })
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>
      if (depth > 3 || Object.keys(properties).length === 0)
        return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
      const required = new Set((schema.required as string[] | undefined) ?? [])
      const fields = Object.fromEntries(
        Object.entries(properties).map(([key, s]) => [key, arbitraryOf(s, depth + 1, key)]),
      )
      return fc.record(fields, { requiredKeys: Object.keys(fields).filter((k) => required.has(k)) })
    }
    default:
      return fc.jsonValue({ maxDepth: 3 })
  }
}

/** Strings meant to break things: NUL, traversal, unicode digits, huge numbers, long, empty. */
const nasty = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '..',
    '../../etc/passwd',
    '١٢٣',
    '1e3',
    '-1',
    '0x10',
    ' 1',
    '9'.repeat(90),
    'x'.repeat(300),
    '',
    '💸',
    "'; drop table agents; --",
    '__proto__',
    'constructor',
  ),
  fc.string({ unit: 'binary', maxLength: 30 }),
)

/** A path parameter: mostly real ids (so routes get past lookups), else generated or broken. */
function paramArbitrary(template: string, p: Parameter): fc.Arbitrary<string> {
  const pools: Record<string, string[]> = {
    // Retiring is final: the fuzz retires only the spare agent, so the others keep serving.
    id: template.endsWith('/retire')
      ? [spare.id, 'agt_missing']
      : [buyer.id, seller.id, spare.id, buyer.chainAgentId, seller.chainAgentId, 'agt_missing', '0'],
    jobId: [jobId, '1', '0', 'abc'],
    paymentId: [paymentId, 'pay_none', 'pay_'],
    chainAgentId: [seller.chainAgentId, buyer.chainAgentId, '999999'],
    file: ['init.js', 'swagger-ui.css', 'swagger-ui-bundle.js', 'secrets.txt'],
  }
  const pool = pools[p.name] ?? ['x']
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...pool) },
    { weight: 1, arbitrary: arbitraryOf(p.schema ?? {}).map(String) },
    { weight: 2, arbitrary: nasty },
  )
}

function bodyArbitrary(operation: Operation): fc.Arbitrary<Plan['body']> {
  const schema = operation.requestBody?.content['application/json']?.schema
  const json = (value: unknown) => ({ text: JSON.stringify(value) ?? 'null', type: 'application/json' })
  const broken = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map(json),
    fc.string({ maxLength: 60 }).map((text) => ({ text, type: 'application/json' })),
    fc.string({ maxLength: 60 }).map((text) => ({ text, type: 'text/plain' })),
    fc.constant({ text: '{"a":'.repeat(2_000), type: 'application/json' }),
    fc.constant({ text: JSON.stringify({ x: 'y'.repeat(70 * 1024) }), type: 'application/json' }),
    fc.constant(undefined),
  )
  if (!schema)
    return fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: broken })
  const valid = arbitraryOf(schema)
  // One field of a valid-ish body replaced by something else (a NUL, a wrong type).
  const mutated = fc
    .tuple(valid, fc.string({ maxLength: 12 }), fc.oneof(nasty, fc.jsonValue({ maxDepth: 2 })))
    .map(([value, key, junk]) => {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return value
      const keys = Object.keys(value)
      const target = keys.length > 0 ? keys[key.length % keys.length]! : key
      return { ...(value as object), [target]: junk }
    })
  return fc.oneof(
    { weight: 6, arbitrary: valid.map(json) },
    { weight: 3, arbitrary: mutated.map(json) },
    { weight: 2, arbitrary: broken },
  )
}

function planArbitrary(method: string, template: string, operation: Operation): fc.Arbitrary<Plan> {
  const parameters = operation.parameters ?? []
  const pathParams = parameters.filter((p) => p.in === 'path')
  const queryParams = parameters.filter((p) => p.in === 'query')
  const headerParams = parameters.filter((p) => p.in === 'header')
  const params = fc.record(Object.fromEntries(pathParams.map((p) => [p.name, paramArbitrary(template, p)])))
  const query = fc
    .tuple(
      fc.record(
        Object.fromEntries(
          queryParams.map((p) => [
            p.name,
            fc.oneof(arbitraryOf(p.schema ?? {}, 0, p.name).map(String), nasty),
          ]),
        ),
        { requiredKeys: [] },
      ),
      fc.option(fc.tuple(fc.string({ maxLength: 8 }), nasty), { freq: 6 }),
    )
    .map(([values, extra]) => {
      const search = new URLSearchParams(values as Record<string, string>)
      if (extra) search.set(extra[0], extra[1])
      return search.toString()
    })
  const headers = fc
    .tuple(
      fc.record(
        Object.fromEntries(
          headerParams.map((p) => [
            p.name,
            fc.oneof(arbitraryOf(p.schema ?? {}).map(String), fc.string({ maxLength: 20 })),
          ]),
        ),
        { requiredKeys: [] },
      ),
      fc.option(fc.constantFrom('1', '0', '999999999999999', 'x'), { freq: 4 }),
    )
    .map(([values, lastEventId]) => {
      // Header values the Fetch API refuses (control characters) cannot be sent at all.
      const sendable = Object.entries(values as Record<string, string>).filter(([, v]) =>
        /^[\t\x20-\x7e]*$/.test(v),
      )
      return { ...Object.fromEntries(sendable), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }
    })
  const who = fc.constantFrom<Who>(
    'owner',
    'owner',
    'owner',
    'none',
    'none',
    'stranger',
    'revoked',
    'garbage',
  )
  // Now and then a method the route does not serve.
  const verb = fc.oneof(
    { weight: 12, arbitrary: fc.constant(method) },
    { weight: 1, arbitrary: fc.constantFrom('delete', 'put', 'options') },
  )
  return fc
    .record({ method: verb, params, query, who, headers, body: bodyArbitrary(operation) })
    .map((plan) => ({ ...plan, template }))
}

// ---------------------------------------------------------------- running and checking

const tally = {
  requests: 0,
  byStatus: {} as Record<string, number>,
  fivexx: 0,
  hangs: 0,
  changedByRefused: 0,
}
const failures: string[] = []

const describePlan = (plan: Plan) =>
  `${plan.method.toUpperCase()} ${urlOf(plan)} as ${plan.who}${plan.body ? ` body ${plan.body.text.slice(0, 200)}` : ''}`

function urlOf(plan: Plan): string {
  const path = plan.template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = plan.params[name] ?? ''
    return value === '%00' ? value : encodeURIComponent(value)
  })
  return `${path}${plan.query ? `?${plan.query}` : ''}`
}

function tokenOf(who: Who): string | undefined {
  return { none: undefined, owner: owner.token, stranger: stranger.token, revoked, garbage: 'x'.repeat(43) }[
    who
  ]
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms)
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Sends one request; reads its body (the first chunk of a stream); its status, or 'timeout'. */
async function send(plan: Plan): Promise<{ status: number | 'timeout'; body: string }> {
  const token = tokenOf(plan.who)
  const controller = new AbortController()
  const headers: Record<string, string> = { ...plan.headers }
  if (token) headers.authorization = `Bearer ${token}`
  if (plan.body?.type) headers['content-type'] = plan.body.type
  const run = (async () => {
    const response = await api.app.request(urlOf(plan), {
      method: plan.method.toUpperCase(),
      headers,
      body: plan.body && !['GET', 'HEAD'].includes(plan.method.toUpperCase()) ? plan.body.text : undefined,
      signal: controller.signal,
    })
    if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      const reader = response.body!.getReader()
      // The backlog is written at once; an empty one sends nothing until the first event or keep-alive.
      const first = await withTimeout(reader.read(), 300)
      await reader.cancel()
      controller.abort()
      return {
        status: response.status,
        body: first === 'timeout' ? '' : new TextDecoder().decode(first.value),
      }
    }
    return { status: response.status, body: await response.text() }
  })()
  const outcome = await withTimeout(run, TIMEOUT_MS)
  if (outcome === 'timeout') {
    controller.abort()
    return { status: 'timeout', body: '' }
  }
  return outcome
}

const chain = () => createPublicClient({ transport: http(api.embedded.devnet.rpcUrl) })
const balanceOf = (address: string) =>
  chain().readContract({
    address: api.embedded.devnet.manifest.contracts.devUSD,
    abi: erc20Abi,
    functionName: 'balanceOf',
    args: [address as `0x${string}`],
  })

/**
 * What a refused request must leave as it was: agents and their text, offerings, live payments,
 * jobs and intents, sessions, and (with `balances`) the money. A refusal may leave an audit trace:
 * a failed payment or job row, a failed intent, a guardrail entry in the activity; and a payment the
 * token refuses may follow the Safe's one-time approval of the economy (it moves no money; one per
 * agent and token). Never anything live, never money moved.
 */
async function snapshot(balances = false): Promise<string> {
  // One digest, computed by the database: the rows a refusal must leave as they were.
  const result = await api.embedded.db.execute(`select md5(concat_ws('|',
    (select string_agg(id || status || description || instructions || definition::text, ',' order by id) from agents),
    (select string_agg(agent_id || name || price || active::text, ',' order by id) from offerings),
    (select string_agg(id || status || amount, ',' order by id) from payments where status <> 'failed'),
    (select string_agg(job_id || status, ',' order by job_id) from jobs where status <> 'failed'),
    (select string_agg(idempotency_key || status, ',' order by id) from intents where status <> 'failed' and kind <> 'approve'),
    (select string_agg(token_hash || coalesce(revoked_at::text, ''), ',' order by token_hash) from sessions)
  )) as digest`)
  // postgres-js hands back the rows, PGlite an object holding them.
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { digest: string }[]
  const money = balances
    ? await Promise.all(
        [buyer.safe, seller.safe, spare.safe, owner.address].map((a) => balanceOf(a).then(String)),
      )
    : []
  return JSON.stringify({ digest: rows[0]!.digest, balances: money })
}

/**
 * Waits until nothing is on its way (every job final, every intent settled), so the background steps
 * of an accepted request are not taken for a refusal's doing.
 */
async function settle() {
  const db = api.embedded.db
  for (let round = 0; round < 400; round++) {
    const [jobs, intents] = await Promise.all([
      db.select().from(tables.jobs),
      db.select().from(tables.intents),
    ])
    const busy =
      jobs.some((j) => ['pending', 'funded', 'submitted'].includes(j.status)) ||
      intents.some((i) => i.status === 'pending' || i.status === 'sent')
    if (!busy) return
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Sessions signed out by a fuzzed logout are replaced, so later requests still reach the owner's routes. */
async function refreshSessions() {
  const sessions = await api.embedded.db.select().from(tables.sessions)
  const live = (token: string) => {
    const hash = createHashSync(token)
    return sessions.some((s) => s.tokenHash === hash && !s.revokedAt)
  }
  if (!live(owner.token)) owner = await api.signIn(2)
  if (!live(stranger.token)) stranger = await api.signIn(3)
}

function createHashSync(token: string) {
  return createHash('sha256').update(token).digest('hex')
}

async function runAll(plans: Plan[], label: string) {
  await settle()
  let before = await snapshot(true)
  let sinceBalances = 0
  for (const plan of plans) {
    const { status, body } = await send(plan)
    tally.requests++
    const key = String(status)
    tally.byStatus[key] = (tally.byStatus[key] ?? 0) + 1
    if (status === 'timeout') {
      tally.hangs++
      failures.push(`${label} hang: ${describePlan(plan)}`)
      await settle()
      before = await snapshot(true)
      continue
    }
    if (status >= 500) {
      tally.fivexx++
      failures.push(`${label} ${status}: ${describePlan(plan)} -> ${body.slice(0, 300)}`)
    }
    if (status < 400) {
      // Accepted: what it changed is the new baseline, once its background work is done.
      await settle()
      if (
        plan.template.endsWith('/withdraw') ||
        plan.template.endsWith('/pay') ||
        plan.template.endsWith('/hire')
      )
        await topUp()
      if (plan.template === '/auth/logout') await refreshSessions()
      before = await snapshot(true)
      sinceBalances = 0
      continue
    }
    const checkBalances = ++sinceBalances >= 25
    if (checkBalances) sinceBalances = 0
    const after = await snapshot(checkBalances)
    const compared = checkBalances ? before : before.replace(/"balances":\[[^\]]*\]/, '"balances":[]')
    if (after !== compared) {
      tally.changedByRefused++
      failures.push(
        `${label} refused (${status}) yet changed state: ${describePlan(plan)} -> ${body.slice(0, 200)}`,
      )
      await settle()
      before = await snapshot(true)
    } else if (checkBalances) before = after
  }
}

/** Keeps the buyer funded, so payments and hires keep reaching the chain. */
async function topUp() {
  if ((await balanceOf(buyer.safe)) < 20_000_000n) await api.fund(buyer.safe, '50')
}

beforeAll(async () => {
  ;[api, service] = await Promise.all([startTestApi(), startSellerService()])
  document = (await (await api.app.request('/openapi.json')).json()) as Document
  ;[owner, stranger] = await Promise.all([api.signIn(2), api.signIn(3)])
  revoked = (await api.signIn(4)).token
  await api.call('POST', '/auth/logout', undefined, revoked)
  const launch = async (body: unknown) => {
    const response = await api.call('POST', '/agents', body, owner.token)
    expect(response.status, await response.clone().text()).toBe(201)
    return (await response.json()) as Launched
  }
  seller = await launch({
    name: 'seller',
    offerings: [{ name: 'echo', description: 'Echoes', price: '0.01', token: 'dUSD', webhook: service.url }],
  })
  buyer = await launch({ name: 'buyer' })
  spare = await launch({ name: 'spare' })
  await api.fund(buyer.safe, '100')
  const paid = await api.call(
    'POST',
    `/agents/${buyer.id}/pay`,
    { to: seller.chainAgentId, amount: '0.01', memo: 'm' },
    owner.token,
  )
  paymentId = ((await paid.json()) as { id: string }).id
  const hired = await api.call(
    'POST',
    `/agents/${buyer.id}/hire`,
    { provider: seller.chainAgentId, offering: 'echo', input: { text: 'x' } },
    owner.token,
  )
  jobId = ((await hired.json()) as { jobId: string }).jobId
  await api.embedded.runtime.job(jobId).done()
})
afterAll(async () => {
  console.log(
    `fuzz: ${tally.requests} requests; by status ${JSON.stringify(tally.byStatus)}; 5xx ${tally.fivexx}; hangs ${tally.hangs}; refused yet changed ${tally.changedByRefused}`,
  )
  if (failures.length) console.log(failures.slice(0, 30).join('\n'))
  await api?.stop()
  await service?.close()
})

describe('fuzz over /openapi.json', () => {
  test("behavior: the findings' cases: refused with 4xx, never 5xx, nothing changed", async () => {
    const fixed = (method: string, template: string, extra: Partial<Plan> = {}): Plan => ({
      method,
      template,
      params: {},
      query: '',
      who: 'owner',
      headers: {},
      body: undefined,
      ...extra,
    })
    const json = (value: unknown) => ({ text: JSON.stringify(value), type: 'application/json' })
    const plans: Plan[] = [
      fixed('get', '/agents/{id}', { params: { id: '%00' } }),
      fixed('get', '/agents/{id}/events', { params: { id: 'a\u0000b' } }),
      fixed('get', '/jobs/{jobId}', { params: { jobId: '%00' } }),
      fixed('get', '/registration/{chainAgentId}', { params: { chainAgentId: '%00' } }),
      fixed('get', '/market/offerings', { query: 'text=%00' }),
      fixed('patch', '/agents/{id}', { params: { id: buyer.id }, body: json({ description: '\u0000' }) }),
      fixed('post', '/agents', { body: json({ name: 'nul', description: 'a\u0000' }) }),
      fixed('post', '/agents/{id}/pay', {
        params: { id: buyer.id },
        body: json({ to: seller.chainAgentId, amount: '0.01', memo: '\u0000' }),
      }),
      fixed('post', '/auth/verify', { who: 'none', body: json({ message: '\u0000', signature: '0x' }) }),
      fixed('post', '/agents/{id}/pay', {
        params: { id: buyer.id },
        who: 'stranger',
        body: json({ to: seller.chainAgentId, amount: '1' }),
      }),
      fixed('post', '/agents/{id}/withdraw', { params: { id: buyer.id }, who: 'none', body: json({}) }),
      fixed('get', '/jobs/{jobId}', { params: { jobId }, who: 'garbage' }),
    ]
    await runAll(plans, 'case')
    // A key reused for another payment: 409, the first payment stands alone.
    const keyed = (amount: string) =>
      fixed('post', '/agents/{id}/pay', {
        params: { id: buyer.id },
        headers: { 'idempotency-key': 'fuzz-reused' },
        body: json({ to: seller.chainAgentId, amount }),
      })
    await runAll([keyed('0.01')], 'case')
    const before = tally.byStatus['409'] ?? 0
    await runAll([keyed('0.02')], 'case')
    expect(tally.byStatus['409'] ?? 0).toBe(before + 1)
    expect(tally.fivexx).toBe(0)
    expect(tally.hangs).toBe(0)
    expect(tally.changedByRefused).toBe(0)
  })

  test(`behavior: ${GENERATED} requests generated from the document: 0 5xx, 0 hangs, refusals change nothing`, async () => {
    const operations = Object.entries(document.paths).flatMap(([template, ops]) =>
      Object.entries(ops).map(([method, operation]) => planArbitrary(method, template, operation)),
    )
    const plans = fc.sample(fc.oneof(...operations), { seed: SEED, numRuns: GENERATED })
    await runAll(plans, 'fuzz')
    expect(failures).toEqual([])
    expect(tally.fivexx).toBe(0)
    expect(tally.hangs).toBe(0)
    expect(tally.changedByRefused).toBe(0)
    expect(tally.requests).toBeGreaterThanOrEqual(GENERATED)
  })
})
