import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * An RFC 9457 problem answer in the API's shape (`type`, `title`, `status`, `code`, `detail`), for
 * the few routes the dashboard serves itself, so the browser shows their errors like the API's.
 */
export function problem(c: Context, status: ContentfulStatusCode, code: string, detail: string) {
  const title = status === 404 ? 'Not Found' : status === 400 ? 'Bad Request' : 'Error'
  const type = `urn:agora:problem:${code.toLowerCase().replaceAll('_', '-')}`
  return c.body(JSON.stringify({ type, title, status, code, detail }), status, {
    'content-type': 'application/problem+json',
  })
}
