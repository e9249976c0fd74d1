import { describe, expect, test } from 'vitest'
import { insertAgent } from './agents.ts'
import {
  getPayment,
  getPaymentByKey,
  type InsertPaymentParameters,
  insertPayment,
  insertPayments,
  listPayments,
  markPaymentsConfirmed,
  updatePayment,
} from './payments.ts'
import { payments } from './schema.ts'
import { address, agentParameters, describeStorage, expectStoreError, huge, usdc } from './test-store.ts'

/** Parameters of a payment of 5 units from `agentId`'s address(1) to address(2). */
const fivePaid = (agentId: string, idempotencyKey: string): InsertPaymentParameters => ({
  idempotencyKey,
  fromAgentId: agentId,
  fromAddress: address(1),
  toAddress: address(2),
  token: usdc,
  amount: '5',
})

describeStorage((store) => {
  describe('insertPayment', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const parameters: InsertPaymentParameters = {
        idempotencyKey: 'pay-1',
        fromAgentId: agent.id,
        fromAddress: '0x000000000000000000000000000000000000SAFE'.replace('SAFE', '5AFE'),
        toChainAgentId: '12',
        toAddress: address(9),
        token: usdc,
        amount: huge,
        memo: 'thanks',
      }
      const { payment, created } = await insertPayment(store.db, parameters)
      expect(created).toBe(true)
      expect(payment).toMatchObject({
        amount: huge,
        status: 'pending',
        fromAddress: address(0x5afe),
        memo: 'thanks',
      })
      expect(payment.id).toMatch(/^pay_/)
      expect(await insertPayment(store.db, { ...parameters, amount: '1' })).toEqual({
        payment,
        created: false,
      })
      expect(await getPayment(store.db, payment.id)).toEqual(payment)
      expect(await getPayment(store.db, 'pay_missing')).toBeUndefined()
      expect(await getPaymentByKey(store.db, 'pay-1')).toEqual(payment)
      expect(await getPaymentByKey(store.db, 'pay-2')).toBeUndefined()
    })
  })

  describe('insertPayments', () => {
    test('default: many in one call, in order; a repeated key returns the first row', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const base = {
        fromAgentId: agent.id,
        fromAddress: address(1),
        toAddress: address(2),
        token: usdc,
      }
      const first = await insertPayment(store.db, { ...base, idempotencyKey: 'b', amount: '2' })
      const results = await insertPayments(store.db, [
        { ...base, idempotencyKey: 'a', amount: '1' },
        { ...base, idempotencyKey: 'b', amount: '20' },
        { ...base, idempotencyKey: 'c', amount: '3' },
        { ...base, idempotencyKey: 'c', amount: '30' },
      ])
      expect(results.map((r) => [r.payment.idempotencyKey, r.payment.amount, r.created])).toEqual([
        ['a', '1', true],
        ['b', '2', false],
        ['c', '3', true],
        ['c', '3', false],
      ])
      expect(results[1]!.payment).toEqual(first.payment)
      expect(await store.db.select().from(payments)).toHaveLength(3)
      expect(await insertPayments(store.db, [])).toEqual([])
    })

    test('behavior: a bad row refuses the call and writes nothing', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const base = { fromAgentId: agent.id, fromAddress: address(1), toAddress: address(2), token: usdc }
      await expect(
        insertPayments(store.db, [
          { ...base, idempotencyKey: 'ok', amount: '1' },
          { ...base, idempotencyKey: 'bad', amount: '-1' },
        ]),
      ).rejects.toThrow(/amount/)
      expect(await store.db.select().from(payments)).toHaveLength(0)
    })
  })

  describe('updatePayment', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const { payment } = await insertPayment(store.db, fivePaid(agent.id, 'p'))
      const updated = await updatePayment(store.db, payment.id, { status: 'confirmed', txHash: '0xfeed' })
      expect(updated).toMatchObject({ status: 'confirmed', txHash: '0xfeed', amount: '5' })
      await expectStoreError(updatePayment(store.db, 'pay_missing', { status: 'failed' }), 'NOT_FOUND')
    })
  })

  describe('markPaymentsConfirmed', () => {
    test('default: each payment gets its own transaction, in one statement', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const ids: string[] = []
      for (const key of ['a', 'b', 'c']) {
        const { payment } = await insertPayment(store.db, fivePaid(agent.id, key))
        ids.push(payment.id)
      }
      const rows = await markPaymentsConfirmed(store.db, [
        { id: ids[0]!, txHash: '0xaa' },
        { id: ids[2]!, txHash: '0xcc' },
        { id: 'pay_missing', txHash: '0xdd' },
      ])
      expect(rows.map((r) => [r.id, r.status, r.txHash]).sort()).toEqual(
        [
          [ids[0], 'confirmed', '0xaa'],
          [ids[2], 'confirmed', '0xcc'],
        ].sort(),
      )
      expect(await getPayment(store.db, ids[1]!)).toMatchObject({ status: 'pending', txHash: null })
      expect(await markPaymentsConfirmed(store.db, [])).toEqual([])
    })
  })

  describe('listPayments', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const other = await insertAgent(store.db, agentParameters({ name: 'other' }))
      for (const key of ['a', 'b']) await insertPayment(store.db, fivePaid(agent.id, key))
      expect((await listPayments(store.db, { agentId: agent.id })).items).toHaveLength(2)
      const first = await listPayments(store.db, { agentId: agent.id, limit: 1 })
      expect(first.items).toHaveLength(1)
      const second = await listPayments(store.db, { agentId: agent.id, limit: 1, cursor: first.next! })
      expect(second.items.map((p) => p.idempotencyKey)).not.toEqual(first.items.map((p) => p.idempotencyKey))
      expect(second.next).toBeNull()
      expect(await listPayments(store.db, { agentId: other.id })).toEqual({ items: [], next: null })
    })

    test('a cursor of another list, or one made up, is refused by name', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const agentsCursor = Buffer.from(JSON.stringify(['agents', agent.id])).toString('base64url')
      for (const cursor of [agentsCursor, 'not-a-cursor', ''])
        await expect(listPayments(store.db, { agentId: agent.id, cursor: cursor || 'x' })).rejects.toThrow(
          /cursor is not one this list gave/,
        )
      await expect(listPayments(store.db, { agentId: agent.id, limit: 0 })).rejects.toThrow(/limit must be/)
      await expect(listPayments(store.db, { agentId: agent.id, limit: 201 })).rejects.toThrow(/limit must be/)
    })
  })
})
