// createDb behaviour every adapter shares, run in the storage suite; create-db.test.ts holds the
// cases specific to one adapter (URLs, connection failures, concurrent migration).
import { sql } from 'drizzle-orm'
import { describe, expect, test } from 'vitest'
import { getAgent, insertAgent } from './agents.ts'
import { recordIntent } from './intents.ts'
import { intents } from './schema.ts'
import { address, agentParameters, describeStorage, migrationCount } from './test-store.ts'

describeStorage((store) => {
  describe('createDb', () => {
    test('behavior: migrations are idempotent across restarts', async () => {
      const persistent = await store.adapter.provision({ persistent: true })
      try {
        const first = await persistent.open()
        const agent = await insertAgent(first.db, agentParameters({ definition: { model: 'm' } }))
        await first.close()

        const second = await persistent.open()
        expect(await getAgent(second.db, agent.id)).toEqual(agent)
        const applied = await second.db
          .select({ n: sql<number>`count(*)::int` })
          .from(sql`drizzle.__drizzle_migrations`)
        expect(applied).toEqual([{ n: migrationCount }])
        await second.close()
      } finally {
        await persistent.dispose()
      }
    })

    test('behavior: jsonb is stored as JSON, not as a JSON string', async () => {
      await recordIntent(store.db, {
        idempotencyKey: 'k',
        kind: 'pay',
        signer: address(1),
        payload: { a: 1 },
      })
      const [row] = await store.db
        .select({ type: sql<string>`jsonb_typeof(${intents.payload})` })
        .from(intents)
      expect(row?.type).toBe('object')
    })
  })
})
