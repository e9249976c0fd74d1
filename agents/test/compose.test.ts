import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'

const example = join(import.meta.dirname, '..', 'src', 'examples', 'compose.ts')

describe('compose example', () => {
  test('default: runs with one command, no keys, and the agents trade for real', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', example], {
      encoding: 'utf8',
      timeout: 180_000,
    })
    expect(run.status, run.stderr).toBe(0)
    expect(run.stdout).toMatch(
      /job summarize: completed, rating 95, deliverable \{"summary":"Agents pay each other on-chain\. Escrow protects both sides\."\}/,
    )
    expect(run.stdout).toMatch(/job translate: completed, rating 95/)
    expect(run.stdout).toMatch(/tip: confirmed \(0x[0-9a-f]{64}\)/)
    // 2 dUSD job minus the 1% fee, plus a 0.5 tip; 1.5 dUSD job minus the fee; 50 - 2 - 1.5 - 0.5.
    expect(run.stdout).toMatch(/summarizer +dUSD +2\.48 +completed 1 +rating 95/)
    expect(run.stdout).toMatch(/translator +dUSD +1\.49 +completed 1 +rating 95/)
    expect(run.stdout).toMatch(/writer +dUSD +46\.00/)
    expect(run.stdout).toMatch(/refused as expected: "summarize" costs 2 dUSD, over the maximum of 1\./)
  })
})
