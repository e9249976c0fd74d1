// Test support, not part of the package API: the one storage suite every `*.test.ts` of a store
// module runs on each adapter (PGlite always, Postgres when DATABASE_URL is set), and its fixtures.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest'
import type { InsertAgentParameters } from './agents.ts'
import type { Db } from './create-db.ts'
// The class every store error extends: the one line to change when the error classes are renamed.
import { BaseError as StoreError } from './errors.ts'
import type { JobInput } from './jobs.ts'
import { type TestAdapter, type TestDatabase, testAdapters, truncateAll } from './test-databases.ts'

export type StorageContext = {
  /** The adapter the suite runs on, to provision further databases (restarts). */
  readonly adapter: TestAdapter
  /** The suite's database, emptied before each test. Read it inside a test: it opens in `beforeAll`. */
  readonly db: Db
}

/**
 * Runs `suite` once per adapter, each time against a database of its own that every test starts
 * empty. An adapter that cannot run here (Postgres without DATABASE_URL) is reported as skipped.
 *
 * @example
 * describeStorage((store) => {
 *   describe('getAgent', () => {
 *     test('behavior: unknown id', async () => {
 *       expect(await getAgent(store.db, 'agt_missing')).toBeUndefined()
 *     })
 *   })
 * })
 */
export function describeStorage(suite: (store: StorageContext) => void): void {
  describe.each(testAdapters)('storage on $name', (adapter) => {
    if (adapter.skipReason)
      console.warn(`[@agora/db] storage suite on ${adapter.name} skipped: ${adapter.skipReason}`)
    describe.skipIf(Boolean(adapter.skipReason))(
      adapter.skipReason ? `skipped: ${adapter.skipReason}` : 'suite',
      () => {
        let database: TestDatabase | undefined
        let opened: { db: Db; close(): Promise<void> } | undefined

        beforeAll(async () => {
          database = await adapter.provision()
          opened = await database.open()
        })
        afterAll(async () => {
          await opened?.close()
          await database?.dispose()
        })
        beforeEach(async () => {
          await truncateAll(opened!.db)
        })

        suite({
          adapter,
          get db() {
            if (!opened) throw new Error('the storage suite reads `db` before its database is open')
            return opened.db
          },
        })
      },
    )
  })
}

/** Asserts that `promise` rejects with a store error of `code`, and returns that error. */
export async function expectStoreError(
  promise: Promise<unknown>,
  code: StoreError['code'],
): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(StoreError)
  expect((error as StoreError).code).toBe(code)
  return error as StoreError
}

/** The `code` of a store error (for errors collected rather than awaited one by one). */
export function storeErrorCode(error: unknown): StoreError['code'] {
  return (error as StoreError).code
}

/** How many migrations `drizzle/` holds: a migrated database has applied each of them once. */
export const migrationCount: number = JSON.parse(
  readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8'),
).entries.length

export const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`
export const owner = '0x00000000000000000000000000000000000000AA'
export const usdc = '0x000000000000000000000000000000000000C0C0'
export const huge = '115792089237316195423570985008687907853269984665640564039457584007913129639935' // 2^256 - 1

let nextSigner = 1

/**
 * An agent of `owner` named `summarizer`, with a signer no other agent uses. Names are unique: a
 * test that inserts a second agent gives it a name of its own.
 */
export function agentParameters(overrides: Partial<InsertAgentParameters> = {}): InsertAgentParameters {
  return {
    owner,
    name: 'summarizer',
    signerAddress: address(0x1000 + nextSigner++),
    encryptedKey: 'ciphertext',
    ...overrides,
  }
}

/** Job 1, funded with 1 USDC for provider agent 7, due at the start of 2030. */
export function jobParameters(overrides: Partial<JobInput> = {}): JobInput {
  return {
    jobId: '1',
    clientAddress: address(0x20),
    providerChainAgentId: '7',
    offering: 'summarize',
    input: { text: 'hello' },
    specHash: `0x${'ab'.repeat(32)}`,
    token: usdc,
    budget: '1000000',
    deadline: new Date('2030-01-01T00:00:00Z'),
    ...overrides,
  }
}
