import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentIdentityRegistryAbi, agentModuleAbi } from '@agora/contracts'
import { createPublicClient, getAddress, http } from 'viem'
import { afterAll, describe, expect, test } from 'vitest'
import { defineAgent } from '../src/define-agent.ts'
import { startEmbeddedRuntime } from '../src/embedded.ts'
import { devnetClients } from './harness.ts'

describe('startEmbeddedRuntime', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'agora-embedded-'))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  test('behavior: a data directory keeps chain, agents and keys across restarts; the registry names the registration files', async () => {
    const scout = defineAgent({ name: 'scout' })
    const first = await startEmbeddedRuntime({ dataDir, publicUrl: 'http://localhost:8787', log: () => {} })
    const owner = first.devnet.manifest.accounts[1]!.address
    const agent = await first.runtime.launch(scout, { owner })
    const launched = await agent.info()
    const publicClient = createPublicClient({ transport: http(first.devnet.rpcUrl) })
    const uri = await publicClient.readContract({
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
    const [again] = (await second.runtime.listAgents()).agents
    expect(again).toMatchObject({
      id: launched.id,
      chainAgentId: launched.chainAgentId,
      safe: launched.safe,
      signer: launched.signer,
    })
    // The agent module still names the agent's key for its Safe on the resumed chain...
    const onChain = await createPublicClient({ transport: http(second.devnet.rpcUrl) }).readContract({
      address: second.devnet.manifest.contracts.module,
      abi: agentModuleAbi,
      functionName: 'agentOf',
      args: [getAddress(again!.safe!)],
    })
    expect(onChain.key.toLowerCase()).toBe(again!.signer.toLowerCase())
    expect(again!.guardrails).toBe('on-chain')
    // ...and the sealed key still opens with the kept master key: the agent can still sign (a
    // withdrawal is a call through the module signed by it).
    second.runtime.register(scout)
    await devnetClients(second.devnet).fund(again!.safe!, '1')
    const withdrawn = await second.runtime.withdraw(again!.id, { amount: '1' })
    expect(withdrawn).toMatchObject({ amount: { value: '1000000', symbol: 'dUSD' }, to: getAddress(owner) })
    await second.stop()
  })
})
