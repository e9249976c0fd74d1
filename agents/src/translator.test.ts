import { describe, expect, test } from 'vitest'
import { translateWords } from './translator.ts'

describe('translateWords', () => {
  test('default: word by word, punctuation kept', () => {
    expect(translateWords('Agents pay each other.', 'fr')).toBe("agents paient chacun l'autre.")
  })
})
