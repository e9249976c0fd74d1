import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentIdentityRegistryAbi } from '@agora/contracts'
import { afterAll, describe, expect, test } from 'vitest'
import { defineAgent } from '../src/define-agent.ts'
import { startEmbeddedRuntime } from '../src/embedded.ts'

describe('startEmbeddedRuntime', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'agora-embedded-'))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  test('behavior: a data directory keeps chain, agents and keys across restarts; the registry names the registration files', async () => {
    const scout = defineAgent({ name: 'scout' })
    const first = await startEmbeddedRuntime({ dataDir, publicUrl: 'http://localhost:8787', log: () => {} })
    const owner = first.devnet.manifest.accounts[1]!.address
    const agent = await first.runtime.launch(scout, { owner })
    const launched = await agent.info()
    const uri = await first.runtime.publicClient.readContract({
      address: first.devnet.manifest.contracts.identityRegistry,
      abi: agentIdentityRegistryAbi,
      functionName: 'tokenURI',
      args: [BigInt(launched.chainAgentId!)],
    })
    expect(uri).toBe(`http://localhost:8787/registration/${launched.chainAgentId}`)
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600)
    await first.stop()

    const second = await startEmbeddedRuntime({ dataDir, publicUrl: 'http://localhost:8787', log: () => {} })
    expect(second.devnet.resumed).toBe(true)
    const [again] = await second.runtime.agents()
    expect(again).toMatchObject({
      id: launched.id,
      chainAgentId: launched.chainAgentId,
      safeAddress: launched.safeAddress,
    })
    // The sealed key still opens with the kept master key: the agent can still sign.
    second.runtime.register(scout)
    expect(second.runtime.context.signerOf(again!).address.toLowerCase()).toBe(launched.signerAddress)
    await second.stop()
  })
})
