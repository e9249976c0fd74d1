import { describe, expect, test } from 'vitest'
import { leadSentences } from './summarizer.ts'

describe('leadSentences', () => {
  test('default: the first two sentences', () => {
    expect(leadSentences('One. Two! Three? Four.')).toBe('One. Two!')
  })
})
