/**
 * Patterns in owners' JSON Schemas run on V8's backtracking engine against what strangers send, so
 * a pattern that can take exponential time (`^(a+)+$` on `aaaa…!`) would stall the whole runtime.
 * The classic cause is a repeated group that itself holds a repetition able to match the same text
 * in many ways; such patterns are refused. A repeated group that starts with a literal separator
 * none of its repetitions can match (`(-[a-z]+)*`, `(\.\d+)*`) splits the text one way only, so it
 * is accepted.
 */

type Atom = {
  /** The atom's source without its quantifier (`[a-z]`, `\.`, `(?:ab)`). */
  text: string
  /** Quantified to repeat more than once (`*`, `+`, `{n,}`, `{n,m}` with m > 1). */
  repeated: boolean
  /** Whether it has a quantifier at all (`?` included). */
  quantified: boolean
  /** A group's alternatives. */
  alternatives?: Atom[][]
}

/**
 * Whether `pattern` may backtrack exponentially (see the module comment); `false` for an invalid
 * pattern, which `RegExp` reports itself.
 *
 * @example
 * mayBacktrackExponentially('^(a+)+$') // true
 * mayBacktrackExponentially('^[a-z]+(-[a-z]+)*$') // false
 */
export function mayBacktrackExponentially(pattern: string, flags = 'u'): boolean {
  try {
    new RegExp(pattern, flags)
  } catch {
    return false
  }
  return unsafe(parseSequence(pattern, { i: 0 }), flags)
}

function unsafe(alternatives: Atom[][], flags: string): boolean {
  for (const atom of alternatives.flat()) {
    if (!atom.alternatives) continue
    if (atom.repeated && repeats(atom.alternatives) && !separated(atom.alternatives, flags)) return true
    if (unsafe(atom.alternatives, flags)) return true
  }
  return false
}

function repeats(alternatives: Atom[][]): boolean {
  return alternatives
    .flat()
    .some((a) => a.repeated || (a.alternatives !== undefined && repeats(a.alternatives)))
}

/** A single sequence starting with a literal character that none of its repetitions can match. */
function separated(alternatives: Atom[][], flags: string): boolean {
  const [sequence, ...others] = alternatives
  if (!sequence || others.length > 0) return false
  const [first, ...rest] = sequence
  if (!first || first.quantified || first.alternatives) return false
  const separator = literalOf(first.text)
  if (separator === undefined) return false
  return rest.every((atom) => {
    if (atom.alternatives) return !repeats(atom.alternatives) && !atom.repeated
    if (!atom.repeated) return true
    try {
      return !new RegExp(`^(?:${atom.text})$`, flags).test(separator)
    } catch {
      return false // a backreference or the like: assume the worst
    }
  })
}

/** The one character a plain atom matches (`-`, `\.`), if it is one. */
function literalOf(text: string): string | undefined {
  if (text.length === 1 && !'.^$|'.includes(text)) return text
  if (text.length === 2 && text[0] === '\\' && /[^\w]/.test(text[1]!)) return text[1]
  return undefined
}

function parseSequence(pattern: string, at: { i: number }): Atom[][] {
  const alternatives: Atom[][] = [[]]
  while (at.i < pattern.length) {
    const c = pattern[at.i]!
    if (c === ')') return alternatives
    if (c === '|') {
      alternatives.push([])
      at.i++
      continue
    }
    const atom = parseAtom(pattern, at)
    const quantifier = /^(?:[*+?]|\{(\d+)(,(\d*))?\})\??/.exec(pattern.slice(at.i))
    if (quantifier) {
      at.i += quantifier[0].length
      const [q, min, comma, max] = quantifier
      atom.quantified = true
      atom.repeated =
        q.startsWith('*') ||
        q.startsWith('+') ||
        (comma !== undefined && (max === '' || Number(max) > Math.max(1, Number(min))))
    }
    alternatives.at(-1)!.push(atom)
  }
  return alternatives
}

function parseAtom(pattern: string, at: { i: number }): Atom {
  const start = at.i
  const c = pattern[at.i]!
  if (c === '\\') {
    const next = pattern[at.i + 1] ?? ''
    const long = /^(?:[pPk]\{[^}]*\}|k<[^>]*>|u\{[^}]*\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|c[a-zA-Z]|\d+)/.exec(
      pattern.slice(at.i + 1),
    )
    at.i += 1 + (long ? long[0].length : next.length)
  } else if (c === '[') {
    for (at.i++; at.i < pattern.length && pattern[at.i] !== ']'; at.i++) if (pattern[at.i] === '\\') at.i++
    at.i++
  } else if (c === '(') {
    const prefix = /^\((?:\?(?::|=|!|<=|<!|<[^>]+>))?/.exec(pattern.slice(at.i))![0]
    at.i += prefix.length
    const alternatives = parseSequence(pattern, at)
    at.i++ // the closing parenthesis
    return { text: pattern.slice(start, at.i), repeated: false, quantified: false, alternatives }
  } else {
    at.i++
  }
  return { text: pattern.slice(start, at.i), repeated: false, quantified: false }
}
