import { describe, expect, test } from 'vitest'
import { mayBacktrackExponentially } from './regexp-safety.ts'

describe('mayBacktrackExponentially', () => {
  test('default: repeated groups holding a repetition are flagged', () => {
    for (const p of [
      '^(a+)+$',
      '(a*)*',
      '((ab)*c)+',
      '([a-z]+){2,}',
      '(?:\\d+)*',
      '(a[a-z]*)+',
      '(\\w+\\s?)*$',
    ])
      expect(mayBacktrackExponentially(p), p).toBe(true)
  })

  test('behavior: plain patterns and separated repetitions pass', () => {
    for (const p of [
      'a+b*',
      '(ab)+',
      '[(a+)]+',
      '\\(a+\\)+',
      '(a+)?',
      '(a+){3}',
      '^\\d{3}-\\d{4}$',
      '^[a-z]+(-[a-z]+)*$',
      '^\\w+(\\.\\w+)*@\\w+$',
      '^\\d+(,\\s*\\d+)*$',
      '(ab+)+',
    ])
      expect(mayBacktrackExponentially(p), p).toBe(false)
  })

  test('behavior: an invalid pattern is left to RegExp', () => {
    expect(mayBacktrackExponentially('(')).toBe(false)
  })

  test('behavior: what passes runs in linear time on hostile input', () => {
    const started = Date.now()
    expect(/^[a-z]+(-[a-z]+)*$/u.test(`${'a-'.repeat(50_000)}!`)).toBe(false)
    expect(Date.now() - started).toBeLessThan(1_000)
  })
})
