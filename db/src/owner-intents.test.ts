import { describe, expect, test } from 'vitest'
import { insertAgent } from './agents.ts'
import { markIntentConfirmed, markIntentSent, recordIntent } from './intents.ts'
import { listOwnerIntents } from './owner-intents.ts'
import { address, agentParameters, describeStorage, owner } from './test-store.ts'

describeStorage((store) => {
  describe('listOwnerIntents', () => {
    test("default: every intent of the owner's agents in the period, with the gas its receipt reported", async () => {
      const mine = await insertAgent(store.db, agentParameters())
      const other = await insertAgent(store.db, agentParameters({ name: 'other', owner: address(0xbb) }))
      const signer = address(0x51)
      const launch = await recordIntent(store.db, {
        idempotencyKey: 'launch:a',
        kind: 'launch',
        signer,
        agentId: mine.id,
      })
      await recordIntent(store.db, { idempotencyKey: 'pay:a:1', kind: 'pay', signer, agentId: mine.id })
      await recordIntent(store.db, { idempotencyKey: 'pay:b:1', kind: 'pay', signer, agentId: other.id })
      await markIntentSent(store.db, launch.intent.id, {
        txHash: `0x${'1'.repeat(64)}`,
        nonce: 0,
        rawTx: '0x',
      })
      await markIntentConfirmed(store.db, launch.intent.id, { result: { gasUsed: 432_996 } })

      const since = new Date(Date.now() - 60_000)
      const rows = await listOwnerIntents(store.db, { owner, since })
      expect(rows.map((r) => [r.idempotencyKey, r.kind, r.status, r.gasUsed])).toEqual([
        ['launch:a', 'launch', 'confirmed', 432_996n],
        ['pay:a:1', 'pay', 'pending', null],
      ])
      expect(await listOwnerIntents(store.db, { owner, since, kinds: ['pay'] })).toHaveLength(1)
      expect(await listOwnerIntents(store.db, { owner, since: new Date(Date.now() + 60_000) })).toEqual([])
    })
  })
})
