import { describe, expect, test } from 'vitest'
import { appendActivity, listActivity } from './activity.ts'
import { insertAgent } from './agents.ts'
import { agentParameters, describeStorage } from './test-store.ts'

describeStorage((store) => {
  describe('appendActivity', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const first = await appendActivity(store.db, {
        agentId: agent.id,
        kind: 'lifecycle',
        data: { status: 'launching' },
      })
      const second = await appendActivity(store.db, { agentId: agent.id, kind: 'tx', data: { hash: '0x1' } })
      expect(first).toMatchObject({ agentId: agent.id, kind: 'lifecycle', data: { status: 'launching' } })
      expect(second.id).toBeGreaterThan(first.id)
      expect((await appendActivity(store.db, { kind: 'guardrail' })).data).toEqual({})
    })

    test('behavior: concurrent appends get distinct increasing ids', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const rows = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          appendActivity(store.db, { agentId: agent.id, kind: 'model', data: { i } }),
        ),
      )
      expect(new Set(rows.map((row) => row.id)).size).toBe(20)
      const listed = await listActivity(store.db, { agentId: agent.id })
      expect(listed.map((row) => row.id)).toEqual(rows.map((row) => row.id).sort((a, b) => a - b))
    })
  })

  describe('listActivity', () => {
    test('default', async () => {
      const a = await insertAgent(store.db, agentParameters({ name: 'a' }))
      const b = await insertAgent(store.db, agentParameters({ name: 'b' }))
      const ids = []
      for (let i = 0; i < 5; i++)
        ids.push(
          (await appendActivity(store.db, { agentId: i % 2 ? b.id : a.id, kind: 'job', data: { i } })).id,
        )
      expect((await listActivity(store.db, { agentId: a.id })).map((row) => row.data.i)).toEqual([0, 2, 4])
      expect(
        (await listActivity(store.db, { agentId: a.id, afterId: ids[2] })).map((row) => row.data.i),
      ).toEqual([4])
      expect((await listActivity(store.db, { afterId: ids[0], limit: 2 })).map((row) => row.data.i)).toEqual([
        1, 2,
      ])
      expect(await listActivity(store.db)).toHaveLength(5)
    })

    test('behavior: `kinds` keeps only those kinds, so a page of them is a full page', async () => {
      const a = await insertAgent(store.db, agentParameters({ name: 'a' }))
      for (const kind of ['job', 'model', 'tool', 'payment'] as const)
        await appendActivity(store.db, { agentId: a.id, kind, data: { kind } })
      const rows = await listActivity(store.db, { agentId: a.id, kinds: ['job', 'payment'], limit: 2 })
      expect(rows.map((row) => row.kind)).toEqual(['job', 'payment'])
    })
  })
})
