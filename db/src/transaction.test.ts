import { describe, expect, test } from 'vitest'
import { ensureOwner, insertAgent } from './agents.ts'
import { getIntentByKey, recordIntent } from './intents.ts'
import { insertPayment } from './payments.ts'
import { payments } from './schema.ts'
import { address, agentParameters, describeStorage, owner, usdc } from './test-store.ts'
import { transaction } from './transaction.ts'

describeStorage((store) => {
  describe('transaction', () => {
    test('behavior: a failure rolls back the intent and the domain row together', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      await expect(
        transaction(store.db, async (tx) => {
          await recordIntent(tx, { idempotencyKey: 'k', kind: 'pay', signer: agent.signerAddress })
          await insertPayment(tx, {
            idempotencyKey: 'k',
            fromAgentId: agent.id,
            fromAddress: address(1),
            toAddress: address(2),
            token: usdc,
            amount: '1',
          })
          throw new Error('crash before commit')
        }),
      ).rejects.toThrow('crash before commit')
      expect(await getIntentByKey(store.db, 'k')).toBeUndefined()
      expect(await store.db.select().from(payments)).toHaveLength(0)
    })

    test('behavior: returns what fn returns', async () => {
      expect(await transaction(store.db, async (tx) => (await ensureOwner(tx, owner)).address)).toBe(
        owner.toLowerCase(),
      )
    })
  })
})
