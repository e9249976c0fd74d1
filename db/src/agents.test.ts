import { describe, expect, test } from 'vitest'
import {
  ensureOwner,
  getAgent,
  getAgentByChainId,
  insertAgent,
  listAgents,
  listAgentsByOwner,
  updateAgent,
} from './agents.ts'
import { owners } from './schema.ts'
import { address, agentParameters, describeStorage, expectStoreError, huge, owner } from './test-store.ts'

describeStorage((store) => {
  describe('ensureOwner', () => {
    test('default', async () => {
      const first = await ensureOwner(store.db, owner)
      const again = await ensureOwner(store.db, owner.toLowerCase())
      expect(first.address).toBe(owner.toLowerCase())
      expect(again).toEqual(first)
      expect(await store.db.select().from(owners)).toHaveLength(1)
    })

    test('behavior: refuses a malformed address', async () => {
      await expectStoreError(ensureOwner(store.db, '0x123'), 'INVALID_INPUT')
    })
  })

  describe('insertAgent', () => {
    test('default', async () => {
      const agent = await insertAgent(
        store.db,
        agentParameters({ signerAddress: '0x00000000000000000000000000000000000000Bb' }),
      )
      expect(agent).toMatchObject({
        owner: owner.toLowerCase(),
        name: 'summarizer',
        status: 'launching',
        signerAddress: '0x00000000000000000000000000000000000000bb',
        chainAgentId: null,
        definition: {},
      })
      expect(agent.id).toMatch(/^agt_[0-9a-f]{24}$/)
      expect(agent.createdAt).toBeInstanceOf(Date)
      expect(await ensureOwner(store.db, owner)).toMatchObject({ address: owner.toLowerCase() })
    })

    test('behavior: keeps a given id and definition', async () => {
      const definition = {
        model: { name: 'gpt' },
        policy: { maxPerJob: '5000000' },
        offerings: [{ name: 'x' }],
      }
      const agent = await insertAgent(store.db, agentParameters({ id: 'agt_fixed', definition }))
      expect(agent.id).toBe('agt_fixed')
      expect((await getAgent(store.db, 'agt_fixed'))?.definition).toEqual(definition)
    })

    test('behavior: keeps a sealed model key apart from the definition (none by default)', async () => {
      const plain = await insertAgent(
        store.db,
        agentParameters({ id: 'agt_nokey', name: 'nokey', signerAddress: address(0x71) }),
      )
      expect(plain.modelKey).toBeNull()
      const agent = await insertAgent(
        store.db,
        agentParameters({
          id: 'agt_key',
          name: 'withkey',
          signerAddress: address(0x72),
          modelKey: 'v1.iv.tag.body',
        }),
      )
      expect((await getAgent(store.db, agent.id))?.modelKey).toBe('v1.iv.tag.body')
      expect((await updateAgent(store.db, agent.id, { modelKey: 'v1.iv2.tag2.body2' })).modelKey).toBe(
        'v1.iv2.tag2.body2',
      )
      expect((await updateAgent(store.db, agent.id, { description: 'kept' })).modelKey).toBe(
        'v1.iv2.tag2.body2',
      )
      expect((await updateAgent(store.db, agent.id, { modelKey: null })).modelKey).toBeNull()
    })

    test('behavior: refuses a signer already used by another agent', async () => {
      const signerAddress = address(0x77)
      await insertAgent(store.db, agentParameters({ signerAddress }))
      await expect(insertAgent(store.db, agentParameters({ signerAddress }))).rejects.toThrow()
      expect(await listAgents(store.db)).toHaveLength(1)
    })
  })

  describe('getAgent', () => {
    test('behavior: unknown id', async () => {
      expect(await getAgent(store.db, 'agt_missing')).toBeUndefined()
    })
  })

  describe('getAgentByChainId', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters({ chainAgentId: huge }))
      expect((await getAgentByChainId(store.db, huge))?.id).toBe(agent.id)
      expect(await getAgentByChainId(store.db, '8')).toBeUndefined()
    })
  })

  describe('listAgents', () => {
    test('default', async () => {
      const a = await insertAgent(store.db, agentParameters({ name: 'a' }))
      const b = await insertAgent(
        store.db,
        agentParameters({ name: 'b', owner: address(0xbb), status: 'active' }),
      )
      expect((await listAgents(store.db)).map((agent) => agent.id)).toEqual([a.id, b.id])
      expect((await listAgents(store.db, { status: 'active' })).map((agent) => agent.id)).toEqual([b.id])
      expect((await listAgents(store.db, { owner: address(0xbb), status: 'launching' })).length).toBe(0)
    })
  })

  describe('listAgentsByOwner', () => {
    test('default', async () => {
      const mine = await insertAgent(store.db, agentParameters())
      await insertAgent(store.db, agentParameters({ owner: address(0xbb), name: 'theirs' }))
      expect(
        (await listAgentsByOwner(store.db, owner.toUpperCase().replace('0X', '0x'))).map((a) => a.id),
      ).toEqual([mine.id])
    })
  })

  describe('updateAgent', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const updated = await updateAgent(store.db, agent.id, {
        status: 'active',
        chainAgentId: '42',
        safeAddress: '0x000000000000000000000000000000000000Cafe',
        accountAddress: address(0xacc),
        launchTx: `0x${'11'.repeat(32)}`,
      })
      expect(updated).toMatchObject({
        status: 'active',
        chainAgentId: '42',
        safeAddress: '0x000000000000000000000000000000000000cafe',
        name: 'summarizer',
        encryptedKey: 'ciphertext',
      })
      expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(agent.updatedAt.getTime())
      expect(await getAgent(store.db, agent.id)).toEqual(updated)
    })

    test('behavior: unknown id', async () => {
      await expectStoreError(updateAgent(store.db, 'agt_missing', { status: 'paused' }), 'NOT_FOUND')
    })
  })
})
