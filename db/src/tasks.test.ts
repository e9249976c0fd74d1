import { describe, expect, test } from 'vitest'
import { insertAgent } from './agents.ts'
import { createId } from './create-id.ts'
import { tasks } from './schema.ts'
import { failRunningTasks, finishTask, getTask, insertTask, listTasks, setTaskSteps } from './tasks.ts'
import { agentParameters, describeStorage, expectStoreError } from './test-store.ts'

describeStorage((store) => {
  const twoAgents = async () => ({
    mine: await insertAgent(store.db, agentParameters({ name: 'planner' })),
    theirs: await insertAgent(store.db, agentParameters({ name: 'other' })),
  })

  describe('insertTask', () => {
    test('default: running, no outcome yet, a task_ id', async () => {
      const { mine } = await twoAgents()
      const task = await insertTask(store.db, { agentId: mine.id, goal: 'Summarise the news' })
      expect(task).toMatchObject({
        agentId: mine.id,
        goal: 'Summarise the news',
        status: 'running',
        answer: null,
        error: null,
        steps: 0,
        finishedAt: null,
      })
      expect(task.id).toMatch(/^task_[0-9a-f]{24}$/)
      expect(task.createdAt).toBeInstanceOf(Date)
    })

    test('behavior: a given id is kept; the same id twice and an unknown agent are refused', async () => {
      const { mine } = await twoAgents()
      await insertTask(store.db, { id: 'task_given', agentId: mine.id, goal: 'g' })
      expect((await getTask(store.db, { agentId: mine.id, id: 'task_given' }))?.goal).toBe('g')
      await expect(insertTask(store.db, { id: 'task_given', agentId: mine.id, goal: 'h' })).rejects.toThrow()
      await expect(insertTask(store.db, { agentId: 'agt_missing', goal: 'g' })).rejects.toThrow()
    })
  })

  describe('finishTask', () => {
    test('default: succeeded with its answer and steps, finished once', async () => {
      const { mine } = await twoAgents()
      const { id } = await insertTask(store.db, { agentId: mine.id, goal: 'g' })
      const done = await finishTask(store.db, id, { status: 'succeeded', answer: 'All done', steps: 3 })
      expect(done).toMatchObject({ status: 'succeeded', answer: 'All done', error: null, steps: 3 })
      expect(done!.finishedAt).toBeInstanceOf(Date)
      // A second outcome changes nothing: the first one stands.
      expect(await finishTask(store.db, id, { status: 'failed', error: 'late', steps: 9 })).toBeUndefined()
      expect(await getTask(store.db, { agentId: mine.id, id })).toEqual(done)
    })

    test('behavior: failed with its error; unknown ids and bad steps', async () => {
      const { mine } = await twoAgents()
      const { id } = await insertTask(store.db, { agentId: mine.id, goal: 'g' })
      expect(await finishTask(store.db, id, { status: 'failed', error: 'no model', steps: 0 })).toMatchObject(
        {
          status: 'failed',
          error: 'no model',
          answer: null,
        },
      )
      expect(
        await finishTask(store.db, 'task_missing', { status: 'succeeded', answer: 'a', steps: 1 }),
      ).toBeUndefined()
      const other = await insertTask(store.db, { agentId: mine.id, goal: 'g' })
      await expectStoreError(
        finishTask(store.db, other.id, { status: 'succeeded', answer: 'a', steps: -1 }),
        'INVALID_INPUT',
      )
      expect((await getTask(store.db, { agentId: mine.id, id: other.id }))?.status).toBe('running')
    })
  })

  describe('setTaskSteps', () => {
    test('default: counts the steps of a running task, never of a finished one', async () => {
      const { mine } = await twoAgents()
      const { id } = await insertTask(store.db, { agentId: mine.id, goal: 'g' })
      expect((await setTaskSteps(store.db, id, 2))?.steps).toBe(2)
      await finishTask(store.db, id, { status: 'succeeded', answer: 'a', steps: 4 })
      expect((await setTaskSteps(store.db, id, 5))?.steps).toBe(4)
      expect(await setTaskSteps(store.db, 'task_missing', 1)).toBeUndefined()
      await expectStoreError(setTaskSteps(store.db, id, 1.5), 'INVALID_INPUT')
    })
  })

  describe('failRunningTasks', () => {
    test('default: fails the running tasks with the reason; finished ones keep their outcome', async () => {
      const { mine, theirs } = await twoAgents()
      const running = await insertTask(store.db, { agentId: mine.id, goal: 'g' })
      await setTaskSteps(store.db, running.id, 2)
      const other = await insertTask(store.db, { agentId: theirs.id, goal: 'g' })
      const done = await insertTask(store.db, { agentId: mine.id, goal: 'g' })
      await finishTask(store.db, done.id, { status: 'succeeded', answer: 'a', steps: 1 })
      const failed = await failRunningTasks(store.db, 'stopped')
      expect(failed.map((t) => t.id).sort()).toEqual([running.id, other.id].sort())
      expect(await getTask(store.db, { agentId: mine.id, id: running.id })).toMatchObject({
        status: 'failed',
        error: 'stopped',
        steps: 2,
        finishedAt: expect.any(Date),
      })
      expect((await getTask(store.db, { agentId: mine.id, id: done.id }))?.status).toBe('succeeded')
      expect(await failRunningTasks(store.db, 'again')).toEqual([])
    })
  })

  describe('getTask', () => {
    test("behavior: another agent's task id is not found", async () => {
      const { mine, theirs } = await twoAgents()
      const task = await insertTask(store.db, { agentId: theirs.id, goal: 'theirs' })
      expect(await getTask(store.db, { agentId: theirs.id, id: task.id })).toEqual(task)
      expect(await getTask(store.db, { agentId: mine.id, id: task.id })).toBeUndefined()
      expect(await getTask(store.db, { agentId: mine.id, id: 'task_missing' })).toBeUndefined()
    })
  })

  describe('listTasks', () => {
    test('default: newest first, the agent’s own only', async () => {
      const { mine, theirs } = await twoAgents()
      const ids: string[] = []
      for (let i = 0; i < 3; i++) {
        ids.push((await insertTask(store.db, { agentId: mine.id, goal: `g${i}` })).id)
        // Apart in time, so "newest" is defined: two tasks of one instant are ordered by id (the
        // next test covers that), and PGlite's clock may give two quick inserts the same instant.
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      await insertTask(store.db, { agentId: theirs.id, goal: 'theirs' })
      const listed = await listTasks(store.db, { agentId: mine.id })
      expect(listed.items.map((t) => t.id)).toEqual([...ids].reverse())
      expect(listed.next).toBeNull()
      expect(await listTasks(store.db, { agentId: 'agt_missing' })).toEqual({ items: [], next: null })
    })

    test('behavior: pages by limit and cursor without skipping or repeating, also within one instant', async () => {
      const { mine } = await twoAgents()
      // Tasks created in one statement share their creation time: only the id orders them.
      const createdAt = new Date('2030-01-01T00:00:00Z')
      await store.db.insert(tasks).values(
        Array.from({ length: 5 }, (_, i) => ({
          id: createId('task'),
          agentId: mine.id,
          goal: `g${i}`,
          createdAt,
        })),
      )
      for (let i = 0; i < 2; i++) await insertTask(store.db, { agentId: mine.id, goal: `later ${i}` })
      const seen: string[] = []
      let cursor: string | undefined
      let pages = 0
      do {
        const page = await listTasks(store.db, { agentId: mine.id, limit: 3, cursor })
        expect(page.items.length).toBeLessThanOrEqual(3)
        seen.push(...page.items.map((t) => t.id))
        cursor = page.next ?? undefined
        pages++
      } while (cursor)
      expect(pages).toBe(3)
      expect(seen).toHaveLength(7)
      expect(new Set(seen).size).toBe(7)
      expect(seen).toEqual((await listTasks(store.db, { agentId: mine.id })).items.map((t) => t.id))
    })

    test('behavior: by status; a limit out of range is refused', async () => {
      const { mine } = await twoAgents()
      const done = await insertTask(store.db, { agentId: mine.id, goal: 'done' })
      await insertTask(store.db, { agentId: mine.id, goal: 'running' })
      await finishTask(store.db, done.id, { status: 'succeeded', answer: 'a', steps: 1 })
      expect(
        (await listTasks(store.db, { agentId: mine.id, status: 'succeeded' })).items.map((t) => t.id),
      ).toEqual([done.id])
      for (const limit of [0, 201, 1.5])
        await expectStoreError(
          Promise.resolve().then(() => listTasks(store.db, { agentId: mine.id, limit })),
          'INVALID_INPUT',
        )
    })
  })
})
