import { jobIdOf } from '@agora/contracts'
import { defineAgent, jobInputMessage, specHashOf } from '@agora/runtime'
import { Validator } from '@seriousme/openapi-schema-validator'
import { x402Client } from '@x402/core/client'
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from '@x402/core/http'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { Address } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { makeOlderAgent, startTestApi, type TestApi } from './harness.ts'
import { startScriptedModel } from './scripted-model.ts'
import { startSellerService } from './webhook.ts'

type Schema = Record<string, unknown>
type Operation = { responses: Record<string, { content?: Record<string, { schema?: Schema }> }> }
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: Schema }

let api: TestApi
let service: Awaited<ReturnType<typeof startSellerService>> // the seller's service: answers { received: input }
let stub: Awaited<ReturnType<typeof startScriptedModel>>
let document: Document
let ajv: Ajv2020
/** Every documented operation whose real responses were checked against the document, with their statuses. */
const checked = new Map<string, Set<number>>()

/** A schema of the document with its references pointed at the document registered in Ajv. */
function compile(schema: Schema): ValidateFunction {
  const text = JSON.stringify(schema).replaceAll('"#/components/', '"openapi.json#/components/')
  return ajv.compile(JSON.parse(text))
}

/**
 * Calls a route and checks the real response against what the document says the route answers
 * with for that status and content type (JSON bodies and each event of a stream).
 */
async function call(
  method: string,
  template: string,
  options: {
    params?: Record<string, string>
    body?: unknown
    token?: string
    query?: string
    headers?: Record<string, string>
  } = {},
): Promise<Response> {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => options.params![name]!)
  const response = await api.app.request(`${path}${options.query ? `?${options.query}` : ''}`, {
    method: method.toUpperCase(),
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const operation = document.paths[template]?.[method]
  expect(operation, `${method} ${template} is documented`).toBeDefined()
  const documented = operation!.responses[String(response.status)]
  expect(documented, `${method} ${template} documents status ${response.status}`).toBeDefined()
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!
  if (response.status !== 204) {
    const schema = documented!.content?.[type]?.schema
    expect(schema, `${method} ${template} ${response.status} documents ${type}`).toBeDefined()
    if (type === 'text/event-stream') await checkStream(response.clone(), schema!)
    else if (type.endsWith('json')) {
      const validate = compile(schema!)
      const body = await response.clone().json()
      expect(
        validate(body),
        `${method} ${template} ${response.status}: ${ajv.errorsText(validate.errors)}`,
      ).toBe(true)
    }
  }
  const key = `${method} ${template}`
  checked.set(key, (checked.get(key) ?? new Set()).add(response.status))
  return response
}

/** Reads a stream until its backlog has arrived and checks every event's data against the schema. */
async function checkStream(response: Response, schema: Schema) {
  const validate = compile(schema)
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  while (!/"event":"launched"/.test(text)) text += (await reader.read()).value ?? ''
  await reader.cancel()
  const events = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!))
  expect(events.length).toBeGreaterThan(0)
  for (const event of events) expect(validate(event), ajv.errorsText(validate.errors)).toBe(true)
}

beforeAll(async () => {
  ;[api, stub, service] = await Promise.all([startTestApi(), startScriptedModel(), startSellerService()])
  document = (await (await api.app.request('/openapi.json')).json()) as Document
  ajv = new Ajv2020({ strict: false, allErrors: true })
  addFormats.default(ajv)
  ajv.addSchema({ $id: 'openapi.json', components: document.components })
})
afterAll(async () => {
  await api?.stop()
  await stub?.close()
  await service?.close()
})

describe('/openapi.json', () => {
  test('default: an independent validator accepts the document as OpenAPI 3.1', async () => {
    const validator = new Validator()
    const result = await validator.validate(structuredClone(document) as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  test('behavior: every JSON success response describes its fields', () => {
    const resolve = (schema: Schema): Schema => {
      const ref = schema.$ref as string | undefined
      if (!ref) return schema
      return resolve((document.components.schemas as Record<string, Schema>)[ref.split('/').at(-1)!]!)
    }
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const schema = response.content?.['application/json']?.schema
          if (!status.startsWith('2') || !schema) continue
          const resolved = resolve(schema)
          expect(resolved.type, `${method} ${path} ${status}`).toBe('object')
          expect(
            Object.keys((resolved.properties as Schema) ?? {}).length,
            `${method} ${path} ${status}`,
          ).toBeGreaterThan(0)
        }
      }
    }
  })

  test('behavior: real responses of every route match the document', async () => {
    const owner = await api.signIn(2)
    const stranger = await api.signIn(3)
    await call('get', '/health')
    await call('get', '/auth/nonce')
    const signedIn = await api.signedMessage(4)
    const session = (await (await call('post', '/auth/verify', { body: signedIn })).json()) as {
      token: string
    }
    await call('post', '/auth/verify', { body: { message: 'hello', signature: '0x' } })
    await call('post', '/auth/logout', { token: session.token })
    await call('post', '/auth/logout', { token: session.token })

    const seller = (await (
      await call('post', '/agents', {
        token: owner.token,
        body: {
          name: 'seller',
          offerings: [
            {
              name: 'echo',
              description: 'Echoes',
              price: '1',
              token: 'dUSD',
              capabilities: ['echo'],
              webhook: service.url,
            },
          ],
        },
      })
    ).json()) as { id: string; chainAgentId: string; safe: string; signer: string }
    const buyer = (await (
      await call('post', '/agents', {
        token: owner.token,
        body: { name: 'buyer', policy: { perJobCap: '5' } },
      })
    ).json()) as { id: string; chainAgentId: string; safe: string }
    await call('post', '/agents', { token: owner.token, body: { name: 'seller' } })
    await call('post', '/agents', { token: owner.token, body: { name: 42 } })
    await call('post', '/agents', { body: { name: 'anonymous' } })
    await api.fund(buyer.safe, '10')
    const id = { id: buyer.id }
    await call('get', '/agents')
    await call('get', '/agents', { query: 'owner=nope' })
    await call('get', '/agents/{id}', { params: id })
    await call('get', '/agents/{id}', { params: { id: seller.chainAgentId } })
    await call('get', '/agents/{id}', { params: { id: 'agt_missing' } })
    await call('patch', '/agents/{id}', {
      params: id,
      token: owner.token,
      body: { instructions: 'Buy well.' },
    })
    await call('patch', '/agents/{id}', {
      params: id,
      token: stranger.token,
      body: { instructions: 'Mine.' },
    })
    // A policy change of an agent on the module: the owners' Safe transaction to sign (202).
    await call('patch', '/agents/{id}', {
      params: id,
      token: owner.token,
      body: { policy: { perJobCap: '4' } },
    })
    await call('post', '/agents/{id}/module', { params: id, token: owner.token, body: {} })
    await makeOlderAgent(api.embedded.devnet, 2, seller.safe as Address, seller.signer as Address)
    await call('post', '/agents/{id}/module', { params: { id: seller.id }, token: owner.token, body: {} })

    const paid = await call('post', '/agents/{id}/pay', {
      params: id,
      token: owner.token,
      body: { to: seller.chainAgentId, amount: '0.5', memo: 'tip' },
    })
    const paymentId = ((await paid.json()) as { id: string }).id
    await call('get', '/agents/{id}/payments/{paymentId}', {
      params: { ...id, paymentId },
      token: owner.token,
    })
    await call('get', '/agents/{id}/payments/{paymentId}', { params: { ...id, paymentId: 'pay_none' } })
    await call('post', '/agents/{id}/pay', {
      params: id,
      token: owner.token,
      body: { to: seller.chainAgentId, amount: '9' },
    })
    await call('post', '/agents/{id}/pay', {
      params: id,
      token: owner.token,
      body: { to: seller.chainAgentId, amount: '-1' },
    })
    const hired = await call('post', '/agents/{id}/hire', {
      params: id,
      token: owner.token,
      body: { provider: seller.chainAgentId, offering: 'echo', input: { text: 'hi' } },
    })
    const { jobId } = (await hired.json()) as { jobId: string }
    await api.embedded.runtime.job(jobId).done()
    await call('post', '/agents/{id}/hire', {
      params: id,
      token: owner.token,
      body: { provider: seller.chainAgentId, offering: 'none', input: {} },
    })
    await call('get', '/agents/{id}/balances', { params: id })
    await call('get', '/agents/{id}/reputation', { params: { id: seller.id } })
    await call('get', '/agents/{id}/jobs', { params: id })
    await call('get', '/agents/{id}/payments', { params: id })
    await call('get', '/agents/{id}/events', { params: id })
    await call('get', '/agents/{id}/events', { params: id, query: 'lastEventId=x' })
    await call('get', '/events', { query: 'lastEventId=0' })
    await call('get', '/events', { query: 'recent=5000' })
    await call('get', '/jobs/{jobId}', { params: { jobId } })
    await call('get', '/jobs/{jobId}', { params: { jobId }, token: owner.token })
    await call('get', '/jobs/{jobId}', { params: { jobId }, token: 'not-a-session' })
    await call('get', '/jobs/{jobId}', { params: { jobId: '1' } })
    await call('get', '/market/offerings', { query: 'capability=echo' })
    await call('get', '/market/offerings', { query: 'maxPrice=1' })
    await call('get', '/registration/{chainAgentId}', { params: { chainAgentId: seller.chainAgentId } })
    await call('get', '/registration/{chainAgentId}', { params: { chainAgentId: '999999' } })
    const card = '/agents/{chainAgentId}/.well-known/agent-card.json'
    await call('get', card, { params: { chainAgentId: seller.chainAgentId } })
    await call('get', card, { params: { chainAgentId: '999999' } })
    await sellAndHandOver(seller.chainAgentId)
    await call('post', '/agents/{id}/withdraw', { params: id, token: owner.token, body: { amount: '1' } })
    await call('post', '/agents/{id}/withdraw', { params: id, token: owner.token, body: { amount: '1000' } })

    const thinker = await api.embedded.runtime.launch(
      defineAgent({
        name: 'thinker',
        model: { provider: 'openai-compatible', baseURL: stub.baseURL, model: 'scripted', maxRetries: 0 },
      }),
      { owner: owner.address as `0x${string}` },
    )
    stub.reply('done')
    const started = await call('post', '/agents/{id}/tasks', {
      params: { id: thinker.id },
      token: owner.token,
      body: { goal: 'Think' },
    })
    const task = { id: thinker.id, taskId: ((await started.json()) as { taskId: string }).taskId }
    await call('get', '/agents/{id}/tasks/{taskId}', { params: task, token: owner.token })
    await call('get', '/agents/{id}/tasks/{taskId}', {
      params: { ...task, taskId: 'task_none' },
      token: owner.token,
    })
    await call('get', '/agents/{id}/tasks', { params: task, token: owner.token, query: 'limit=5' })
    await call('post', '/devnet/faucet', { body: { to: buyer.id, amount: '1' } })
    await call('post', '/agents/{id}/tasks', { params: id, token: owner.token, body: { goal: 'Think' } })
    await call('post', '/agents/{id}/pause', { params: id, token: owner.token })
    await call('post', '/agents/{id}/resume', { params: id, token: owner.token })
    await call('post', '/agents/{id}/retire', { params: { id: seller.id }, token: owner.token })
    await call('post', '/agents/{id}/resume', { params: { id: seller.id }, token: owner.token })
    // A fresh key launches until its quota is used up: 429.
    const fresh = await api.signIn(9)
    for (let n = 0; n <= 20; n++)
      await call('post', '/agents', { token: fresh.token, body: { name: `quota-${n}` } })
    await call('get', '/openapi.json')
    await call('get', '/docs')
    await call('get', '/docs/assets/{file}', { params: { file: 'init.js' } })

    // Every documented operation answered at least once with a success that matched the document.
    const operations = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    )
    for (const operation of operations) {
      const statuses = [...(checked.get(operation) ?? [])]
      expect(
        statuses.some((s) => s < 300),
        `${operation} answered ${statuses.join(', ') || 'nothing'}`,
      ).toBe(true)
    }
    const problems = [...checked.values()].flatMap((s) => [...s]).filter((s) => s >= 400)
    expect(new Set(problems)).toEqual(new Set([400, 401, 402, 403, 404, 409, 422, 429]))
  })
})

/** The x402 sale route (402, then paid by the published client) and an escrow input handed over by a wallet. */
async function sellAndHandOver(chainAgentId: string) {
  const sale = '/agents/{chainAgentId}/offerings/{offering}'
  const params = { chainAgentId, offering: 'echo' }
  const unpaid = await call('post', sale, { params, body: { text: 'hi' } })
  await call('post', sale, { params: { chainAgentId, offering: 'none' }, body: { text: 'hi' } })
  const payer = privateKeyToAccount(api.accounts[6]!.privateKey)
  await api.fund(payer.address, '5')
  const client = new x402Client()
    .register(`eip155:${api.chainId}`, new ExactEvmScheme(payer))
    .setSpendControls({ allowedAssets: true })
  const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!)
  const header = encodePaymentSignatureHeader(await client.createPaymentPayload(required))
  await call('post', sale, { params, body: { text: 'hi' }, headers: { 'payment-signature': header } })

  const spec = { offering: 'echo', input: { text: 'hi' }, provider: chainAgentId, nonce: 'openapi' }
  const specHash = specHashOf(spec)
  const jobId = jobIdOf(payer.address, BigInt(chainAgentId), specHash).toString()
  const signature = await payer.signMessage({ message: jobInputMessage(jobId, specHash) })
  await call('put', '/jobs/{jobId}/input', {
    params: { jobId },
    body: { ...spec, client: payer.address, signature },
  })
  await call('put', '/jobs/{jobId}/input', {
    params: { jobId: '1' },
    body: { ...spec, client: payer.address, signature },
  })
}
