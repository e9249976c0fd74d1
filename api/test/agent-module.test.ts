import { agentModuleAbi, devUSDAbi, safeAbi, safeContractNetworks } from '@agora/contracts'
import protocolKit from '@safe-global/protocol-kit'
import {
  type Address,
  createPublicClient,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  parseUnits,
  zeroAddress,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { makeOlderAgent, problemOf, safeTxTypes, startTestApi, type TestApi } from './harness.ts'

/** protocol-kit's CommonJS-flavoured types put the class at `default.default`; Node loads the ES build. */
const Safe = ('init' in protocolKit ? protocolKit : protocolKit.default) as typeof protocolKit.default

type Launched = { id: string; chainAgentId: string; safe: Address; signer: Address; guardrails: string }
type SignatureRequest = {
  ownerSignatureRequired: true
  safeTxHash: Hex
  safeTransaction: { to: Address; value: string; data: Hex; operation: 0 | 1; nonce: string }
}

const OWNER = 2 // development account that owns the agents

let api: TestApi
let owner: { token: string; address: string }
let payer: Launched
let payee: Launched

const publicClient = () =>
  createPublicClient({ chain: api.embedded.devnet.chain, transport: http(api.embedded.devnet.rpcUrl) })

/** protocol-kit on the agent's Safe, signing as development account `i`. */
function kitOf(safe: Address, i = OWNER) {
  const { devnet } = api.embedded
  return Safe.init({
    provider: devnet.rpcUrl,
    signer: devnet.manifest.accounts[i]!.privateKey,
    safeAddress: safe,
    contractNetworks: safeContractNetworks(devnet.manifest.chainId, devnet.manifest.safe),
  })
}

/** The owners' own Safe transaction, made with protocol-kit alone (no runtime in the way). */
async function ownerExecutes(safe: Address, transactions: { to: Address; data: Hex }[]) {
  const kit = await kitOf(safe)
  const tx = await kit.createTransaction({ transactions: transactions.map((t) => ({ ...t, value: '0' })) })
  const result = await kit.executeTransaction(await kit.signTransaction(tx))
  await publicClient().waitForTransactionReceipt({ hash: result.hash as Hex })
}

/** Signs a returned Safe transaction with protocol-kit as the owner. */
async function sign(request: SignatureRequest): Promise<Hex> {
  const kit = await kitOf(payer.safe)
  const { to, value, data, operation, nonce } = request.safeTransaction
  const tx = await kit.createTransaction({
    transactions: [{ to, value, data, operation }],
    options: { nonce: Number(nonce) },
  })
  expect(await kit.getTransactionHash(tx)).toBe(request.safeTxHash)
  return (await kit.signTransaction(tx)).encodedSignatures() as Hex
}

/** The same transaction signed (EIP-712) by development account 3, no owner of the Safe. */
function strangerSigns(request: SignatureRequest & { typedData?: unknown }): Promise<Hex> {
  const { devnet } = api.embedded
  const { to, value, data, operation, nonce } = request.safeTransaction
  return privateKeyToAccount(devnet.manifest.accounts[3]!.privateKey).signTypedData({
    domain: { chainId: devnet.manifest.chainId, verifyingContract: payer.safe },
    types: safeTxTypes,
    primaryType: 'SafeTx',
    message: {
      to,
      value: BigInt(value),
      data,
      operation,
      safeTxGas: 0n,
      baseGas: 0n,
      gasPrice: 0n,
      gasToken: zeroAddress,
      refundReceiver: zeroAddress,
      nonce: BigInt(nonce),
    },
  })
}

async function pay(amount: string) {
  return api.call('POST', `/agents/${payer.id}/pay`, { to: payee.chainAgentId, amount }, owner.token)
}

async function launch(body: unknown): Promise<Launched> {
  const response = await api.call('POST', '/agents', body, owner.token)
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Launched
}

beforeAll(async () => {
  api = await startTestApi()
  owner = await api.signIn(OWNER)
  payer = await launch({ name: 'payer', policy: { perJobCap: '5', budget: { amount: '20', period: 'day' } } })
  payee = await launch({ name: 'payee' })
  await api.fund(payer.safe, '10')
}, 120_000)
afterAll(async () => {
  await api?.stop()
})

describe('agents on the agent module', () => {
  test('default: the Safe is the owner alone; the key acts through the module, with the policy on chain', async () => {
    expect(payer.guardrails).toBe('on-chain')
    const { contracts } = api.embedded.devnet.manifest
    const owners = await publicClient().readContract({
      address: payer.safe,
      abi: safeAbi,
      functionName: 'getOwners',
    })
    expect(owners).toEqual([getAddress(owner.address)])
    const limit = await publicClient().readContract({
      address: contracts.module,
      abi: agentModuleAbi,
      functionName: 'limitOf',
      args: [payer.safe, contracts.devUSD],
    })
    expect(limit).toEqual({ perCall: 5_000_000n, perPeriod: 20_000_000n, period: 86_400, enabled: true })
  })

  test("behavior: the owner's own Safe transaction (protocol-kit) never disturbs the agent's next payment", async () => {
    const { contracts } = api.embedded.devnet.manifest
    const nonceBefore = await publicClient().readContract({
      address: payer.safe,
      abi: safeAbi,
      functionName: 'nonce',
    })
    const transfer = encodeFunctionData({
      abi: devUSDAbi,
      functionName: 'transfer',
      args: [owner.address as Address, parseUnits('1', 6)],
    })
    await ownerExecutes(payer.safe, [{ to: contracts.devUSD, data: transfer }])
    expect(
      await publicClient().readContract({ address: payer.safe, abi: safeAbi, functionName: 'nonce' }),
    ).toBe(nonceBefore + 1n)
    const response = await pay('0.5')
    expect(response.status, await response.clone().text()).toBe(200)
    expect(await response.json()).toMatchObject({ status: 'confirmed' })
  })

  test('behavior: PATCH of the policy answers the Safe transaction to sign, then writes it on chain once signed', async () => {
    const { contracts } = api.embedded.devnet.manifest
    const patch = { policy: { perJobCap: '1', budget: { amount: '20', period: 'day' } } }
    const first = await api.call('PATCH', `/agents/${payer.id}`, patch, owner.token)
    expect(first.status, await first.clone().text()).toBe(202)
    const request = (await first.json()) as SignatureRequest
    expect(request).toMatchObject({ ownerSignatureRequired: true, safe: payer.safe })
    expect(request.safeTransaction.to).toBe(contracts.module)
    // Nothing changed yet: neither the row nor the chain.
    const unchanged = await api.call('GET', `/agents/${payer.id}`)
    expect(((await unchanged.json()) as { policy: unknown }).policy).toMatchObject({ perJobCap: '5' })

    // A stranger's signature is the Safe's refusal, and changes nothing.
    const forged = await api.call(
      'PATCH',
      `/agents/${payer.id}`,
      { ...patch, ownerSignature: await strangerSigns(request) },
      owner.token,
    )
    expect(forged.status).toBe(403)
    expect((await problemOf(forged)).detail).toContain('GS026')

    const signed = await api.call(
      'PATCH',
      `/agents/${payer.id}`,
      { ...patch, ownerSignature: await sign(request) },
      owner.token,
    )
    expect(signed.status, await signed.clone().text()).toBe(200)
    expect(((await signed.json()) as { policy: unknown }).policy).toMatchObject({ perJobCap: '1' })
    const limit = await publicClient().readContract({
      address: contracts.module,
      abi: agentModuleAbi,
      functionName: 'limitOf',
      args: [payer.safe, contracts.devUSD],
    })
    expect(limit.perCall).toBe(1_000_000n)
    const over = await pay('2')
    expect(over.status).toBe(422)
    expect((await problemOf(over)).code).toBe('POLICY_REFUSED')
  })

  test('behavior: an agent whose key is a Safe owner is told apart, and its owner moves it onto the module', async () => {
    // The owner makes the agent what agents launched before the module were: its key an owner, no module.
    await makeOlderAgent(api.embedded.devnet, OWNER, payer.safe, payer.signer)
    // The runtime learns it from the chain: the first payment through the module is refused (revoked
    // at once), and the next one goes as a Safe transaction of the key, an owner again.
    const refused = await pay('0.1')
    expect(refused.status).toBe(422)
    expect((await problemOf(refused)).contractError?.name).toBe('ModuleNoAgent')
    const asOwner = await pay('0.1')
    expect(asOwner.status, await asOwner.clone().text()).toBe(200)
    const view = (await (await api.call('GET', `/agents/${payer.id}`)).json()) as Launched
    expect(view.guardrails).toBe('code-only')

    const first = await api.call('POST', `/agents/${payer.id}/module`, {}, owner.token)
    expect(first.status, await first.clone().text()).toBe(202)
    const request = (await first.json()) as SignatureRequest
    const stranger = await api.signIn(3)
    const notOwner = await api.call('POST', `/agents/${payer.id}/module`, {}, stranger.token)
    expect(notOwner.status).toBe(403)
    const moved = await api.call(
      'POST',
      `/agents/${payer.id}/module`,
      { ownerSignature: await sign(request) },
      owner.token,
    )
    expect(moved.status, await moved.clone().text()).toBe(200)
    expect(((await moved.json()) as Launched).guardrails).toBe('on-chain')
    const owners = await publicClient().readContract({
      address: payer.safe,
      abi: safeAbi,
      functionName: 'getOwners',
    })
    expect(owners).toEqual([getAddress(owner.address)])
    const again = await api.call('POST', `/agents/${payer.id}/module`, {}, owner.token)
    expect(again.status).toBe(409)
    const paid = await pay('0.2')
    expect(paid.status, await paid.clone().text()).toBe(200)
  })
})
