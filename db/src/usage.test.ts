import { describe, expect, test } from 'vitest'
import { insertAgent } from './agents.ts'
import { agentParameters, describeStorage } from './test-store.ts'
import { recordUsage, summarizeUsage } from './usage.ts'

describeStorage((store) => {
  describe('recordUsage', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      const row = await recordUsage(store.db, {
        agentId: agent.id,
        jobId: '1',
        model: 'm1',
        promptTokens: 100,
        completionTokens: 20,
      })
      expect(row).toMatchObject({
        agentId: agent.id,
        jobId: '1',
        model: 'm1',
        promptTokens: 100,
        completionTokens: 20,
      })
    })
  })

  describe('summarizeUsage', () => {
    test('default', async () => {
      const agent = await insertAgent(store.db, agentParameters())
      await recordUsage(store.db, {
        agentId: agent.id,
        jobId: '1',
        model: 'm1',
        promptTokens: 100,
        completionTokens: 20,
      })
      await recordUsage(store.db, { agentId: agent.id, model: 'm1', promptTokens: 1, completionTokens: 2 })
      await recordUsage(store.db, { agentId: agent.id, model: 'm2', promptTokens: 5, completionTokens: 5 })
      expect(await summarizeUsage(store.db, { agentId: agent.id })).toEqual([
        { model: 'm1', calls: 2, promptTokens: 101, completionTokens: 22 },
        { model: 'm2', calls: 1, promptTokens: 5, completionTokens: 5 },
      ])
      expect(await summarizeUsage(store.db, { agentId: agent.id, jobId: '1' })).toEqual([
        { model: 'm1', calls: 1, promptTokens: 100, completionTokens: 20 },
      ])
      expect(
        await summarizeUsage(store.db, { agentId: agent.id, since: new Date(Date.now() + 60_000) }),
      ).toEqual([])
    })
  })
})
