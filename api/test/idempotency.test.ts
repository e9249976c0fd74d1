import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'
import { startSellerService } from './webhook.ts'

// Finding 4 (second half): the idempotency key was read from the body only, and a key reused with
// other parameters silently answered with the first payment (or, for a hire, made a second job).

type Launched = { id: string; chainAgentId: string; safe: string }

let api: TestApi
let service: Awaited<ReturnType<typeof startSellerService>> // the seller's service: answers { received: input }
let owner: { token: string; address: string }
let buyer: Launched
let seller: Launched

async function launch(body: unknown): Promise<Launched> {
  const response = await api.call('POST', '/agents', body, owner.token)
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Launched
}

const pay = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  api.call('POST', `/agents/${buyer.id}/pay`, { to: seller.chainAgentId, ...body }, owner.token, headers)

beforeAll(async () => {
  ;[api, service] = await Promise.all([startTestApi(), startSellerService()])
  owner = await api.signIn(2)
  seller = await launch({
    name: 'seller',
    offerings: [{ name: 'echo', description: 'Echoes', price: '1', token: 'dUSD', webhook: service.url }],
  })
  buyer = await launch({ name: 'buyer' })
  await api.fund(buyer.safe, '20')
})
afterAll(async () => {
  await api?.stop()
  await service?.close()
})

describe('Idempotency-Key', () => {
  test('default: the header works like the body field: a retry answers with the same payment, paid once', async () => {
    const first = await pay({ amount: '0.1' }, { 'idempotency-key': 'header-1' })
    expect(first.status).toBe(200)
    const retry = await pay({ amount: '0.1' }, { 'idempotency-key': 'header-1' })
    expect(retry.status).toBe(200)
    const [a, b] = [(await first.json()) as { id: string }, (await retry.json()) as { id: string }]
    expect(b.id).toBe(a.id)
    // The body's key names the same payment.
    const body = await pay({ amount: '0.1', idempotencyKey: 'header-1' })
    expect(((await body.json()) as { id: string }).id).toBe(a.id)
    const payments = (await (await api.app.request(`/agents/${buyer.id}/payments`)).json()) as {
      payments: unknown[]
    }
    expect(payments.payments).toHaveLength(1)
  })

  test('behavior: a key reused for a different payment is a 409 IDEMPOTENCY_CONFLICT', async () => {
    expect((await pay({ amount: '0.2', idempotencyKey: 'reused' })).status).toBe(200)
    for (const body of [
      { amount: '0.3', idempotencyKey: 'reused' },
      { amount: '0.2', memo: 'other', idempotencyKey: 'reused' },
      { amount: '0.2', token: 'ETH', idempotencyKey: 'reused' },
    ]) {
      const problem = await problemOf(await pay(body))
      expect(problem, JSON.stringify(body)).toMatchObject({ status: 409, code: 'IDEMPOTENCY_CONFLICT' })
    }
    const header = await problemOf(await pay({ amount: '0.3' }, { 'idempotency-key': 'reused' }))
    expect(header).toMatchObject({ status: 409, code: 'IDEMPOTENCY_CONFLICT' })
  })

  test('behavior: a header and a body that name different keys are a 400', async () => {
    const problem = await problemOf(
      await pay({ amount: '0.1', idempotencyKey: 'a' }, { 'idempotency-key': 'b' }),
    )
    expect(problem).toMatchObject({ status: 400, code: 'INVALID_REQUEST' })
  })

  test('behavior: a hire key reused with another input is a 409, not a second job', async () => {
    const hire = (input: unknown) =>
      api.call(
        'POST',
        `/agents/${buyer.id}/hire`,
        { provider: seller.chainAgentId, offering: 'echo', input },
        owner.token,
        { 'idempotency-key': 'hire-1' },
      )
    const first = await hire({ text: 'one' })
    expect(first.status, await first.clone().text()).toBe(202)
    const { jobId } = (await first.json()) as { jobId: string }
    const same = await hire({ text: 'one' })
    expect(((await same.json()) as { jobId: string }).jobId).toBe(jobId)
    const other = await problemOf(await hire({ text: 'two' }))
    expect(other).toMatchObject({ status: 409, code: 'IDEMPOTENCY_CONFLICT' })
    const jobs = (await (await api.app.request(`/agents/${buyer.id}/jobs`)).json()) as { jobs: unknown[] }
    expect(jobs.jobs).toHaveLength(1)
  })

  test('behavior: a withdrawal key reused with another amount is a 409; the same one answers the first', async () => {
    const withdraw = (amount: string) =>
      api.call('POST', `/agents/${buyer.id}/withdraw`, { amount }, owner.token, { 'idempotency-key': 'wd-1' })
    const first = await withdraw('1')
    expect(first.status, await first.clone().text()).toBe(200)
    const same = await withdraw('1')
    expect(same.status).toBe(200)
    expect(((await same.json()) as { txHash: string }).txHash).toBe(
      ((await first.json()) as { txHash: string }).txHash,
    )
    expect(await problemOf(await withdraw('2'))).toMatchObject({ status: 409, code: 'IDEMPOTENCY_CONFLICT' })
  })
})
