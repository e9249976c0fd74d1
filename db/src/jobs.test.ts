import { describe, expect, test } from 'vitest'
import { insertAgent } from './agents.ts'
import { advanceJob, getJob, getJobByKey, listJobs, updateJob, upsertJob } from './jobs.ts'
import {
  agentParameters,
  describeStorage,
  expectStoreError,
  huge,
  jobParameters,
  usdc,
} from './test-store.ts'

describeStorage((store) => {
  describe('getJobByKey', () => {
    test('default: one job per client agent and key; another job under the key is refused', async () => {
      const client = await insertAgent(store.db, agentParameters({ name: 'client' }))
      const job = await upsertJob(store.db, jobParameters({ clientAgentId: client.id, idempotencyKey: 'k' }))
      expect(await getJobByKey(store.db, { clientAgentId: client.id, idempotencyKey: 'k' })).toEqual(job)
      expect(
        await getJobByKey(store.db, { clientAgentId: client.id, idempotencyKey: 'other' }),
      ).toBeUndefined()
      await expect(
        upsertJob(store.db, jobParameters({ jobId: '2', clientAgentId: client.id, idempotencyKey: 'k' })),
      ).rejects.toThrow()
      // Jobs without a key are not constrained.
      await upsertJob(store.db, jobParameters({ jobId: '3', clientAgentId: client.id }))
      await upsertJob(store.db, jobParameters({ jobId: '4', clientAgentId: client.id }))
    })
  })

  describe('upsertJob', () => {
    test('default', async () => {
      const provider = await insertAgent(store.db, agentParameters({ chainAgentId: '7' }))
      const job = await upsertJob(
        store.db,
        jobParameters({ jobId: huge, budget: huge, providerAgentId: provider.id }),
      )
      expect(job).toMatchObject({
        jobId: huge,
        budget: huge,
        status: 'funded',
        token: usdc.toLowerCase(),
        input: { text: 'hello' },
        providerAgentId: provider.id,
        clientAgentId: null,
      })
      expect(job.deadline.toISOString()).toBe('2030-01-01T00:00:00.000Z')
      expect(await getJob(store.db, huge)).toEqual(job)
      expect(await getJob(store.db, '2')).toBeUndefined()
    })

    test('behavior: merges fields and only moves the status forward', async () => {
      await upsertJob(store.db, jobParameters({ createTx: '0xc1' }))
      const submitted = await upsertJob(
        store.db,
        jobParameters({
          status: 'submitted',
          deliverable: { summary: 'hi' },
          deliverableHash: '0xd',
          submitTx: '0xs',
        }),
      )
      expect(submitted).toMatchObject({
        status: 'submitted',
        createTx: '0xc1',
        deliverable: { summary: 'hi' },
      })
      const completed = await upsertJob(
        store.db,
        jobParameters({ status: 'completed', fee: '1000', payout: '999000', rating: 90, settleTx: '0xe' }),
      )
      expect(completed).toMatchObject({
        status: 'completed',
        fee: '1000',
        payout: '999000',
        rating: 90,
        submitTx: '0xs',
      })
      // A replayed creation event, then a conflicting final state, change nothing.
      expect((await upsertJob(store.db, jobParameters({ status: 'funded' }))).status).toBe('completed')
      expect((await upsertJob(store.db, jobParameters({ status: 'rejected' }))).status).toBe('completed')
    })

    test('behavior: refuses a job id that is not a decimal string', async () => {
      await expectStoreError(upsertJob(store.db, jobParameters({ jobId: '0x01' })), 'INVALID_INPUT')
      await expectStoreError(upsertJob(store.db, jobParameters({ budget: '1e6' })), 'INVALID_INPUT')
    })
  })

  describe('updateJob', () => {
    test('default', async () => {
      await upsertJob(store.db, jobParameters())
      const job = await updateJob(store.db, '1', { status: 'submitted', deliverableHash: '0xd' })
      expect(job).toMatchObject({ status: 'submitted', deliverableHash: '0xd', budget: '1000000' })
      expect((await updateJob(store.db, '1', { status: 'expired' })).status).toBe('expired')
      expect((await updateJob(store.db, '1', { status: 'submitted', rating: 1 })).status).toBe('expired')
      await expectStoreError(updateJob(store.db, '404', { status: 'completed' }), 'NOT_FOUND')
    })
  })

  describe('advanceJob', () => {
    test('default: moves forward once, with its fields; a replay or a step back changes nothing', async () => {
      await upsertJob(store.db, jobParameters({ status: 'funded' }))
      const submitted = await advanceJob(store.db, '1', { status: 'submitted', deliverableHash: '0xd' })
      expect(submitted).toMatchObject({ status: 'submitted', deliverableHash: '0xd' })
      expect(await advanceJob(store.db, '1', { status: 'submitted', deliverableHash: '0xe' })).toBeUndefined()
      expect(await advanceJob(store.db, '1', { status: 'funded' })).toBeUndefined()
      expect(await advanceJob(store.db, '1', { status: 'completed', rating: 90 })).toMatchObject({
        status: 'completed',
        rating: 90,
      })
      expect(await advanceJob(store.db, '1', { status: 'rejected' })).toBeUndefined()
      expect(await getJob(store.db, '1')).toMatchObject({
        status: 'completed',
        rating: 90,
        deliverableHash: '0xd',
      })
      expect(await advanceJob(store.db, '404', { status: 'completed' })).toBeUndefined()
    })
  })

  describe('listJobs', () => {
    test('default', async () => {
      const client = await insertAgent(store.db, agentParameters({ name: 'client' }))
      const provider = await insertAgent(store.db, agentParameters({ name: 'provider' }))
      await upsertJob(
        store.db,
        jobParameters({ jobId: '1', clientAgentId: client.id, providerAgentId: provider.id }),
      )
      await upsertJob(
        store.db,
        jobParameters({
          jobId: '2',
          providerAgentId: provider.id,
          deadline: new Date('2020-01-01'),
          status: 'submitted',
        }),
      )
      await upsertJob(store.db, jobParameters({ jobId: '3', clientAgentId: client.id, status: 'completed' }))

      const ids = (jobs: { jobId: string }[]) => jobs.map((job) => job.jobId).sort()
      expect(ids(await listJobs(store.db))).toEqual(['1', '2', '3'])
      expect(ids(await listJobs(store.db, { agentId: client.id }))).toEqual(['1', '3'])
      expect(ids(await listJobs(store.db, { agentId: provider.id }))).toEqual(['1', '2'])
      expect(ids(await listJobs(store.db, { agentId: client.id, role: 'provider' }))).toEqual([])
      expect(
        ids(await listJobs(store.db, { agentId: provider.id, role: 'provider', status: 'funded' })),
      ).toEqual(['1'])
      expect(
        ids(
          await listJobs(store.db, {
            status: ['funded', 'submitted'],
            deadlineBefore: new Date('2025-01-01'),
          }),
        ),
      ).toEqual(['2'])
      expect(await listJobs(store.db, { limit: 2 })).toHaveLength(2)
    })
  })
})
