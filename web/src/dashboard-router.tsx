/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Hono, type MiddlewareHandler } from 'hono'
import { assetsRouter } from './assets.ts'
import { devWalletRouter } from './dev-wallet.ts'
import { AgentPage } from './pages/agent-page.tsx'
import { ConsolePage } from './pages/console-page.tsx'
import { EconomyPage } from './pages/economy-page.tsx'
import { JobPage } from './pages/job-page.tsx'
import { MarketPage } from './pages/market-page.tsx'

export type DashboardRouterParameters = {
  /**
   * On the embedded devnet, its RPC URL: the console then offers the development accounts to sign in
   * with (signed by the node) and the faucet. Without it, only a browser wallet signs in.
   */
  devnetRpcUrl?: string
}

// Pages load scripts, styles and data from this origin only; uPlot sizes its canvas through the CSSOM.
const policy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/**
 * The dashboard: `/` (the economy), `/market`, `/agent/:id`, `/job/:jobId`, `/console`, their
 * assets under `/assets`, and on the devnet `/dashboard/dev-wallet`. Pages are rendered here; the
 * browser fills them from the JSON API beside them (same origin), so the API stays the one way in.
 *
 * @example
 * app.route('/', dashboardRouter({ devnetRpcUrl }))
 */
export function dashboardRouter(parameters: DashboardRouterParameters = {}) {
  const devnet = parameters.devnetRpcUrl !== undefined
  const app = new Hono()
  app.use('/', headers)
  app.use('/market', headers)
  app.use('/console', headers)
  app.use('/agent/*', headers)
  app.use('/job/*', headers)
  app.get('/', (c) => c.html(page(<EconomyPage devnet={devnet} />)))
  app.get('/market', (c) => c.html(page(<MarketPage devnet={devnet} />)))
  app.get('/console', (c) => c.html(page(<ConsolePage devnet={devnet} />)))
  app.get('/agent/:id', (c) => c.html(page(<AgentPage devnet={devnet} id={c.req.param('id')} />)))
  app.get('/job/:jobId', (c) => c.html(page(<JobPage devnet={devnet} jobId={c.req.param('jobId')} />)))
  app.route('/assets', assetsRouter())
  if (parameters.devnetRpcUrl)
    app.route('/dashboard/dev-wallet', devWalletRouter({ rpcUrl: parameters.devnetRpcUrl }))
  return app
}

/** A page as a whole HTML document (JSX renders the element; the doctype comes first). */
function page(element: unknown): string {
  return `<!doctype html>${String(element)}`
}

/** Every page: its content policy, and no caching of what a session may change. */
const headers: MiddlewareHandler = async (c, next) => {
  await next()
  c.header('content-security-policy', policy)
  c.header('cache-control', 'no-store')
}
