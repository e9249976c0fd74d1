import { describe, expect, test } from 'vitest'
import { createSession, getSession, revokeSession } from './sessions.ts'
import { describeStorage, owner } from './test-store.ts'

describeStorage((store) => {
  describe('createSession', () => {
    test('default', async () => {
      const { token, session } = await createSession(store.db, { address: owner })
      expect(token.length).toBeGreaterThanOrEqual(43)
      expect(session.address).toBe(owner.toLowerCase())
      expect(session.tokenHash).not.toContain(token)
      expect(session.expiresAt.getTime() - Date.now()).toBeGreaterThan(6 * 24 * 3_600_000)
    })
  })

  describe('getSession', () => {
    test('default', async () => {
      const { token, session } = await createSession(store.db, { address: owner, ttlMs: 60_000 })
      expect(await getSession(store.db, token)).toEqual(session)
      expect(await getSession(store.db, `${token}x`)).toBeUndefined()
      expect(await getSession(store.db, token, { now: new Date(Date.now() + 120_000) })).toBeUndefined()
    })
  })

  describe('revokeSession', () => {
    test('default', async () => {
      const { token } = await createSession(store.db, { address: owner })
      const other = await createSession(store.db, { address: owner })
      expect(await revokeSession(store.db, token)).toBe(true)
      expect(await getSession(store.db, token)).toBeUndefined()
      expect(await revokeSession(store.db, token)).toBe(false)
      expect(await getSession(store.db, other.token)).toBeDefined()
    })
  })
})
