import { describe, expect, test } from 'vitest'
import { errorLogLine } from './error-log.ts'

describe('errorLogLine', () => {
  test("default: a failed query's parameters (a sealed key among them) never reach the line", () => {
    const sealed = 'v1.Pw0qZpZ7Lv_DT0W3.Lo1Gfq_IEE4sFj_oYLnn1g.YIUZ-RVAbm5Nl0kdXUYhwkU3ovOeWgXTwgVmNPblGSU'
    const cause = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code: '22021',
    })
    // What drizzle's DrizzleQueryError says: the query, then its parameters.
    const error = new Error(
      `Failed query: insert into "agents" ("id", "encrypted_key") values ($1, $2)\nparams: agt_1,${sealed}`,
      { cause },
    )
    const line = errorLogLine(error)
    expect(line).not.toContain(sealed)
    expect(line).not.toContain('v1.Pw0q')
    expect(line).not.toMatch(/params/i)
    // What failed and where stays.
    expect(line).toContain('insert into "agents"')
    expect(line).toContain('22021')
    expect(line).toMatch(/\n\s+at /)
  })

  test('behavior: private keys, URL paths and credentials are redacted', () => {
    const key = `0x${'ab'.repeat(32)}`
    const error = new Error(
      `HTTP request failed. URL: https://user:pass@eth.example.com/v2/SECRETKEY?x=1 key ${key}\nRequest body: {"params":["${key}"]}`,
    )
    const line = errorLogLine(error)
    expect(line).not.toContain('SECRETKEY')
    expect(line).not.toContain('pass@')
    expect(line).not.toContain(key)
    expect(line).not.toContain('Request body')
    expect(line).toContain('https://eth.example.com/…')
  })
})
