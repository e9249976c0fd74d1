import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { type Context, Hono } from 'hono'
import { problem } from './problem.ts'

const staticDir = join(import.meta.dirname, '..', 'static')
const uplotDir = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist')

const types: Record<string, string> = {
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
}

/** The files served: the dashboard's own (`static/`) and the charting library's, from node_modules. */
const vendor: Record<string, string> = {
  'uPlot.esm.js': join(uplotDir, 'uPlot.esm.js'),
  'uPlot.min.css': join(uplotDir, 'uPlot.min.css'),
}

/**
 * `/assets`: the stylesheet, the pages' ES modules (served as written: no build step) and uPlot.
 * Names are checked against a fixed pattern, so no path leaves these folders.
 */
export function assetsRouter() {
  const cache = new Map<string, Promise<string>>()
  const load = (path: string) => {
    let text = cache.get(path)
    if (!text) {
      text = readFile(path, 'utf8')
      text.catch(() => cache.delete(path))
      cache.set(path, text)
    }
    return text
  }
  const serve = async (c: Context, path: string | undefined, name: string) => {
    const type = types[name.split('.').pop() ?? '']
    if (!path || !type) return problem(c, 404, 'ROUTE_NOT_FOUND', `No asset "${name}".`)
    try {
      return c.body(await load(path), 200, { 'content-type': type, 'cache-control': 'no-cache' })
    } catch {
      return problem(c, 404, 'ROUTE_NOT_FOUND', `No asset "${name}".`)
    }
  }
  const app = new Hono()
  app.get('/vendor/:file', (c) => {
    const file = c.req.param('file')
    return serve(c, Object.hasOwn(vendor, file) ? vendor[file] : undefined, file)
  })
  app.get('/js/:file', (c) => {
    const file = c.req.param('file')
    return serve(c, /^[a-z-]+\.js$/.test(file) ? join(staticDir, 'js', file) : undefined, file)
  })
  app.get('/dashboard.css', (c) => serve(c, join(staticDir, 'dashboard.css'), 'dashboard.css'))
  return app
}
