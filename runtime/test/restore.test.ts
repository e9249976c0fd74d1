import { randomBytes } from 'node:crypto'
import type { Devnet } from '@agora/contracts'
import { createDb } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { agentFromJson } from '../src/actions/agents/agent-from-json.ts'
import { createRuntime } from '../src/create-runtime.ts'
import { defineAgent } from '../src/define-agent.ts'
import { startTestReceiver, type TestReceiver } from './fixtures/webhook-receiver.ts'
import { devnetClients, withDevnet } from './harness.ts'

describe('restoring agents defined as JSON', () => {
  let devnet: Devnet
  let database: Awaited<ReturnType<typeof createDb>>
  let receiver: TestReceiver // the owner's service; answers { received: input }
  const masterKey = randomBytes(32)

  const open = async () => {
    const runtime = await createRuntime({
      chain: { rpcUrl: devnet.rpcUrl, manifest: devnet.manifest },
      db: database.db,
      masterKey,
      relayerKeys: [devnet.manifest.accounts[12]!.privateKey],
      pollIntervalMs: 50,
      log: () => {},
    })
    await runtime.start()
    return runtime
  }

  beforeAll(async () => {
    devnet = await withDevnet()
    receiver = await startTestReceiver()
    database = await createDb()
  })
  afterAll(async () => {
    await database?.close()
    await receiver?.close()
    await devnet?.stop()
  })

  test('behavior: after a restart, an agent defined as JSON serves again, with the edits made since launch', async () => {
    const owner = devnet.manifest.accounts[1]!.address
    const first = await open()
    const echo = await first.launch(
      agentFromJson({
        name: 'echo',
        instructions: 'Repeat.',
        offerings: [
          { name: 'echo', description: 'Echoes', price: '1', token: 'dUSD', webhook: receiver.url },
        ],
      }),
      { owner },
    )
    const client = await first.launch(defineAgent({ name: 'client' }), { owner })
    await first.updateAgent(echo.id, { description: 'Echoes, faithfully' })
    await first.stop()

    // A new process: no definitions in code, only what the database holds.
    const second = await open()
    const clientView = await second.getAgent(client.id)
    await devnetClients(devnet).fund(clientView.safe!, '5')
    const echoView = await second.getAgent(echo.id)
    expect(echoView.description).toBe('Echoes, faithfully')
    const job = await second.agent(client.id).hire({
      provider: echoView.chainAgentId!,
      offering: 'echo',
      input: { text: 'again' },
    })
    const done = await job.done()
    expect(done).toMatchObject({ status: 'completed', deliverable: { received: { text: 'again' } } })
    expect(await second.registrationFile(echoView.chainAgentId!)).toMatchObject({
      name: 'echo',
      description: 'Echoes, faithfully',
    })
    await second.stop()
  })

  test('behavior: a name belongs to one agent', async () => {
    const runtime = await open()
    const owner = devnet.manifest.accounts[2]!.address
    await runtime.launch(defineAgent({ name: 'unique' }), { owner })
    const again = await runtime.launch(defineAgent({ name: 'unique' }), { owner }).catch((e: unknown) => e)
    expect(again).toMatchObject({ name: 'ConflictError', code: 'NAME_TAKEN' })
    expect((await runtime.listAgents()).agents.filter((a) => a.name === 'unique')).toHaveLength(1)
    await runtime.stop()
  })
})
