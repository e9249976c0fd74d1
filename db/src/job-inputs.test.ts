import { describe, expect, test } from 'vitest'
import { deleteJobInputsBefore, getJobInput, saveJobInput } from './job-inputs.ts'
import { describeStorage, expectStoreError } from './test-store.ts'

const handed = {
  jobId: '123456789',
  clientAddress: '0xAbCdEf0000000000000000000000000000000001',
  providerChainAgentId: '7',
  offering: 'upper',
  input: { text: 'hi' },
  nonce: 'n-1',
  specHash: `0x${'ab'.repeat(32)}`,
}

describeStorage((store) => {
  describe('saveJobInput', () => {
    test('default: kept with normalised addresses, read back by job id', async () => {
      const saved = await saveJobInput(store.db, handed)
      expect(saved).toMatchObject({ ...handed, clientAddress: handed.clientAddress.toLowerCase() })
      expect(await getJobInput(store.db, handed.jobId)).toEqual(saved)
      expect(await getJobInput(store.db, '1')).toBeUndefined()
    })

    test('behavior: the first hand-over of a job stays; a second answers it', async () => {
      const first = await saveJobInput(store.db, { ...handed, jobId: '42' })
      const second = await saveJobInput(store.db, { ...handed, jobId: '42', input: { text: 'other' } })
      expect(second).toEqual(first)
      const both = await Promise.all([0, 1, 2].map(() => saveJobInput(store.db, { ...handed, jobId: '43' })))
      expect(new Set(both.map((row) => row.createdAt.getTime())).size).toBe(1)
    })

    test('behavior: bad ids and addresses are refused', async () => {
      await expectStoreError(saveJobInput(store.db, { ...handed, jobId: 'abc' }), 'INVALID_INPUT')
      await expectStoreError(saveJobInput(store.db, { ...handed, clientAddress: 'nope' }), 'INVALID_INPUT')
    })
  })

  describe('deleteJobInputsBefore', () => {
    test('default: forgets inputs older than the date only', async () => {
      await saveJobInput(store.db, { ...handed, jobId: '900' })
      expect(await deleteJobInputsBefore(store.db, new Date(Date.now() - 60_000))).toBe(0)
      expect(await deleteJobInputsBefore(store.db, new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1)
      expect(await getJobInput(store.db, '900')).toBeUndefined()
    })
  })
})
