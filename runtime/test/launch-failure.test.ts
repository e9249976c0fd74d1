/**
 * A launch the chain refuses (finding 10 of the hardening issue): it is retried, each attempt with a
 * salt of its own, and when every attempt fails the agent is released (retired, its name free), so
 * nothing stays `launching` with its name taken. (That the deployment itself cannot be front-run is
 * the factory's test: contracts/test/factory.test.ts.)
 */
import { agentIdentityRegistryAbi, type Devnet } from '@agora/contracts'
import { type Db, getIntentByKey } from '@agora/db'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MAX_LAUNCH_ATTEMPTS } from '../src/actions/agents/launch-attempts.ts'
import { defineAgent } from '../src/define-agent.ts'
import type { Runtime } from '../src/runtime.ts'
import { devnetClients, openRuntime, withDevnet } from './harness.ts'

describe('launch failures', () => {
  let devnet: Devnet
  let runtime: Runtime
  let db: Db
  let close: () => Promise<void>

  /** Trusts or distrusts the factory in the identity registry (the deployer owns the registry). */
  async function trustFactory(trusted: boolean) {
    const { publicClient, owner } = devnetClients(devnet)
    const hash = await owner(0).writeContract({
      address: devnet.manifest.contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'setLauncher',
      args: [devnet.manifest.contracts.factory, trusted],
    })
    await publicClient.waitForTransactionReceipt({ hash })
  }

  beforeAll(async () => {
    devnet = await withDevnet()
    ;({ runtime, db, close } = await openRuntime(devnet, { name: 'pglite' }, []))
  })
  afterAll(async () => {
    await close?.()
    await devnet?.stop()
  })

  test('default: a refused launch is retried with fresh salts, then released; the name launches again', async () => {
    const owner = devnet.manifest.accounts[1]!.address
    await trustFactory(false)
    const refused = await runtime.launch(defineAgent({ name: 'phoenix' }), { owner }).catch((e: unknown) => e)
    expect(refused).toMatchObject({ code: 'CONTRACT_REVERTED' })
    expect(String((refused as Error).message)).toMatch(/IdentityNotLauncher/)

    const [released] = (await runtime.listAgents()).agents.filter((a) => a.status === 'retired')
    expect(released).toBeDefined()
    expect(released!.name).not.toBe('phoenix')
    const attempts = await Promise.all(
      Array.from({ length: MAX_LAUNCH_ATTEMPTS }, (_, attempt) =>
        getIntentByKey(db, attempt === 0 ? `launch:${released!.id}` : `launch:${released!.id}:${attempt}`),
      ),
    )
    expect(attempts.map((intent) => intent?.status)).toEqual(attempts.map(() => 'failed'))
    const salts = new Set(attempts.map((intent) => (intent!.payload as { salt: string }).salt))
    expect(salts.size).toBe(MAX_LAUNCH_ATTEMPTS)
    expect((await runtime.listAgents()).agents.filter((a) => a.status === 'launching')).toEqual([])

    await trustFactory(true)
    const again = await runtime.launch(defineAgent({ name: 'phoenix' }), { owner })
    expect(await again.info()).toMatchObject({ name: 'phoenix', status: 'active' })
    expect(again.id).not.toBe(released!.id)
  })
})
