/**
 * The log line of an unexpected error: what failed and where, never the values it failed with.
 * Foreign errors put data in their messages (drizzle appends the failed query's parameters, among
 * them sealed agent keys; viem the RPC URL, which may hold an API key, and the request body), so
 * only the first line of each message in the chain of causes is kept, with anything shaped like a
 * key or a credential in it redacted, plus the stack frames of the outermost error.
 *
 * @example
 * log(`api: ${method} ${path} failed: ${errorLogLine(error)}`)
 */
export function errorLogLine(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    const e = current as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown }
    const name = typeof e.name === 'string' ? e.name : typeof current
    const message = typeof e.message === 'string' ? e.message : typeof current === 'string' ? current : ''
    const code = typeof e.code === 'string' ? ` [${e.code}]` : ''
    parts.push(`${name}${code}: ${redact(firstLine(message))}`)
    current = typeof current === 'object' ? e.cause : undefined
  }
  const stack = error instanceof Error && typeof error.stack === 'string' ? error.stack : ''
  const frames = stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 12)
    .map((line) => redact(line))
  return [parts.join(' <- caused by: '), ...frames].join('\n')
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? ''
  return line.length > 500 ? `${line.slice(0, 500)}…` : line
}

/** Removes what may be secret from one line: sealed keys, long hex (private keys), URL paths and credentials. */
export function redact(line: string): string {
  return (
    line
      // A sealed agent key: v1.<iv>.<tag>.<ciphertext>, base64url.
      .replace(/\bv1\.[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/g, '[sealed key]')
      // 32 bytes or more of hex: a private key looks like that (so do hashes; they are not worth the risk).
      .replace(/\b(0x)?[0-9a-fA-F]{64,}\b/g, '[hex]')
      // URLs: their origin only (paths and queries carry API keys), without user info.
      .replace(/\b(https?|wss?):\/\/(?:[^\s/@]+@)?([^\s/?#]+)[^\s]*/g, '$1://$2/…')
      // Anything spelled like a parameter list.
      .replace(/\bparams:.*$/i, 'params: [redacted]')
  )
}
