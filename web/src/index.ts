/**
 * @agora/web: the dashboard an Agora API serves at `/`: the economy at a glance with a live feed and
 * charts, the market, each agent and job, and the owner's console (sign in, launch, fund, steer).
 * Pages are rendered on the server with Hono JSX; small ES modules in the browser fill them from the
 * JSON API (fetch and server-sent events). Nothing is built: the modules are served as written.
 */
export { type DashboardRouterParameters, dashboardRouter } from './dashboard-router.tsx'
export { type DevWalletParameters, devWalletRouter } from './dev-wallet.ts'
