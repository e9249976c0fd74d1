import { defineAgent } from '@agora/runtime'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { problemOf, startTestApi, type TestApi } from './harness.ts'
import { startScriptedModel } from './scripted-model.ts'
import { upperAgent } from './upper-agent.ts'

// Every route that names an agent takes its runtime id (`agt_…`) or its on-chain id alike: this
// walks them all with the on-chain id and checks each answers for the same agent as with `agt_…`.

type Session = { token: string; address: string }
type Agent = { id: string; chainAgentId: string; safe: string; name: string }

let api: TestApi
let stub: Awaited<ReturnType<typeof startScriptedModel>>
let owner: Session
let seller: Agent
let buyer: Agent

async function json(response: Response, status = 200) {
  expect(response.status, await response.clone().text()).toBe(status)
  return response.json() as Promise<Record<string, unknown>>
}

beforeAll(async () => {
  ;[api, stub] = await Promise.all([startTestApi(), startScriptedModel()])
  owner = await api.signIn(2)
  const sellerOwner = (await api.signIn(3)).address as `0x${string}`
  seller = (await (await api.embedded.runtime.launch(upperAgent, { owner: sellerOwner })).info()) as Agent
  buyer = (await (
    await api.embedded.runtime.launch(
      defineAgent({
        name: 'buyer',
        model: { provider: 'openai-compatible', baseURL: stub.baseURL, model: 'scripted', maxRetries: 0 },
        evaluate: () => ({ accept: true, rating: 80 }),
      }),
      { owner: owner.address as `0x${string}` },
    )
  ).info()) as Agent
  await api.fund(buyer.safe, '10')
})
afterAll(async () => {
  await api?.stop()
  await stub?.close()
})

describe('agent ids in routes', () => {
  test('default: every agent route answers by on-chain id as by agt_ id', async () => {
    const n = buyer.chainAgentId
    const byBoth = async (path: (id: string) => string, token?: string) => {
      const [byChain, byRuntime] = await Promise.all([
        json(await api.call('GET', path(n), undefined, token)),
        json(await api.call('GET', path(buyer.id), undefined, token)),
      ])
      expect(byChain, path(n)).toEqual(byRuntime)
      return byChain
    }
    expect(await byBoth((id) => `/agents/${id}`)).toMatchObject({ id: buyer.id, chainAgentId: n })
    await byBoth((id) => `/agents/${id}/balances`)
    expect(await byBoth((id) => `/agents/${id}/reputation`)).toMatchObject({ chainAgentId: n })
    expect(await byBoth((id) => `/registration/${id}`)).toMatchObject({ name: 'buyer' })

    // Money moves by on-chain id, and is read back by it.
    const paid = await json(
      await api.call('POST', `/agents/${n}/pay`, { to: seller.chainAgentId, amount: '0.5' }, owner.token),
    )
    expect(paid).toMatchObject({ from: { agentId: buyer.id }, status: 'confirmed' })
    await byBoth((id) => `/agents/${id}/payments/${paid.id}`, owner.token)
    expect(((await byBoth((id) => `/agents/${id}/payments`, owner.token)).payments as unknown[]).length).toBe(
      1,
    )
    const hired = await json(
      await api.call(
        'POST',
        `/agents/${n}/hire`,
        { provider: seller.chainAgentId, offering: 'upper', input: { text: 'hi' }, maxPrice: '1' },
        owner.token,
      ),
      202,
    )
    await api.embedded.runtime.job(String(hired.jobId)).done()
    const jobs = (await byBoth((id) => `/agents/${id}/jobs`, owner.token)).jobs as { status: string }[]
    expect(jobs.map((j) => j.status)).toEqual(['completed'])
    const withdrawn = await api.call('POST', `/agents/${n}/withdraw`, { amount: '1' }, owner.token)
    expect([200, 202]).toContain(withdrawn.status)

    // Steering by on-chain id.
    await json(await api.call('PATCH', `/agents/${n}`, { instructions: 'Buy well.' }, owner.token))
    expect(await json(await api.call('POST', `/agents/${n}/pause`, undefined, owner.token))).toMatchObject({
      status: 'paused',
    })
    expect(await json(await api.call('POST', `/agents/${n}/resume`, undefined, owner.token))).toMatchObject({
      status: 'active',
    })

    // Tasks and events by on-chain id.
    stub.reply('done')
    const started = await json(
      await api.call('POST', `/agents/${n}/tasks`, { goal: 'Think' }, owner.token),
      202,
    )
    expect(started.taskId).toMatch(/^task_/)
    for (let i = 0; i < 100; i++) {
      const task = await json(
        await api.call('GET', `/agents/${n}/tasks/${started.taskId}`, undefined, owner.token),
      )
      if (task.status !== 'running') break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(
      ((await byBoth((id) => `/agents/${id}/tasks`, owner.token)).tasks as { id: string }[])[0]!.id,
    ).toBe(started.taskId)
    const events = await api.app.request(`/agents/${n}/events`, {
      headers: { authorization: `Bearer ${owner.token}` },
    })
    expect(events.status).toBe(200)
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    while (!text.includes('task succeeded')) text += (await reader.read()).value ?? ''
    await reader.cancel()
    expect(text).toContain(`"agentId":"${buyer.id}"`)
  })

  test('behavior: the first agent on the chain is agent 1, readable at /agents/1/reputation as the quickstart shows', async () => {
    expect(seller.chainAgentId).toBe('1')
    expect(await json(await api.call('GET', '/agents/1/reputation'))).toMatchObject({
      chainAgentId: '1',
      completed: 1,
    })
    expect(await json(await api.call('GET', '/agents/1'))).toMatchObject({ id: seller.id, name: 'upper' })
  })

  test('behavior: an unknown id of either kind is a 404; a malformed one a 400', async () => {
    for (const id of ['999999', 'agt_missing']) {
      for (const path of [
        `/agents/${id}`,
        `/agents/${id}/balances`,
        `/agents/${id}/jobs`,
        `/registration/${id}`,
      ]) {
        expect((await problemOf(await api.call('GET', path))).status, path).toBe(404)
      }
      const paid = await api.call(
        'POST',
        `/agents/${id}/pay`,
        { to: seller.chainAgentId, amount: '1' },
        owner.token,
      )
      expect((await problemOf(paid)).status, id).toBe(404)
    }
    expect((await problemOf(await api.call('GET', '/agents/bad%20id'))).status).toBe(400)
  })
})
