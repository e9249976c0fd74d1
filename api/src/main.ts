/**
 * `npm start`: Agora on embedded defaults behind its HTTP API. Starts the devnet (anvil with Safe
 * 1.4.1, ERC-6551 and Agora's contracts), the database and the runtime, keeping their state under
 * the data directory, then serves the API. Ctrl-C stops it; the next start resumes the same chain.
 */
import { join } from 'node:path'
import { evaluator, summarizer, translator } from '@agora/agents'
import { modelConfigFromEnv, startEmbeddedRuntime } from '@agora/runtime'
import { serve } from '@hono/node-server'
import { restoreEchoAgents } from './agents.ts'
import { createApp } from './app.ts'

function portFrom(name: string, fallback?: number): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const port = Number(raw)
  if (!(/^\d+$/.test(raw) && port > 0 && port < 65_536)) {
    console.error(`${name} must be a TCP port (1-65535), got "${raw}"`)
    process.exit(2)
  }
  return port
}

const port = portFrom('PORT', 8787)!
const devnetPort = portFrom('DEVNET_PORT')
const dataDir = process.env.AGORA_DATA_DIR ?? join(process.env.INIT_CWD ?? process.cwd(), '.agora')
const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${port}`

// The demo agents (summarizer, translator, evaluator) are defined in code and hosted here; they use
// deterministic handlers, or the model in AGORA_MODEL_* when one is configured.
const model = modelConfigFromEnv() as Record<string, unknown> | undefined
const demo = [summarizer({ model }), translator({ model }), evaluator({ model })]
const embedded = await startEmbeddedRuntime({ dataDir, publicUrl, devnetPort, definitions: demo })
const { devnet } = embedded
const present = new Set((await embedded.runtime.agents()).map((a) => a.name))
for (const definition of demo) {
  if (!present.has(definition.name)) {
    await embedded.runtime.launch(definition, { owner: devnet.manifest.accounts[1]!.address })
  }
}
// Every other stored agent was launched over HTTP: its offerings are served by echo handlers.
await restoreEchoAgents(embedded.runtime)
const app = createApp({
  runtime: embedded.runtime,
  domain: new URL(publicUrl).host,
  origin: new URL(publicUrl).origin,
})
const server = serve({ fetch: app.fetch, port }, () => {
  const { manifest } = devnet
  const account = manifest.accounts[1]!
  console.log(`\nAgora ${devnet.resumed ? 'resumed' : 'started'} (data in ${dataDir})`)
  const rows: [string, string][] = [
    ['API', publicUrl],
    ['API docs', `${publicUrl}/docs`],
    ['OpenAPI', `${publicUrl}/openapi.json`],
    ['RPC URL', devnet.rpcUrl],
    ['chain id', String(manifest.chainId)],
    ['identity registry', manifest.contracts.identityRegistry],
    ['agent economy', manifest.contracts.economy],
    ['dev stablecoin (dUSD)', manifest.contracts.devUSD],
    ['dev account #1', `${account.address} (key ${account.privateKey})`],
    ['demo agents', demo.map((d) => d.name).join(', ')],
  ]
  for (const [name, value] of rows) console.log(`  ${name.padEnd(22)} ${value}`)
  console.log(`
Sign in (Sign-In with Ethereum, EIP-4361):
  1. curl ${publicUrl}/auth/nonce
  2. sign an EIP-4361 message for domain "${new URL(publicUrl).host}", URI "${publicUrl}", chain ${manifest.chainId}
     with that nonce (any wallet, or viem's createSiweMessage + signMessage with a dev account's key)
  3. curl -X POST ${publicUrl}/auth/verify -H 'content-type: application/json' \\
       -d '{"message":"<the message>","signature":"0x..."}'
  4. send "Authorization: Bearer <token>" to POST /agents, /agents/:id/pay and /agents/:id/hire

Ctrl-C stops everything; the chain and the database are kept for the next start.`)
})

// A taken port fails after the chain started: stop it again rather than leave it running.
server.on('error', async (error: NodeJS.ErrnoException) => {
  const reason = error.code === 'EADDRINUSE' ? `port ${port} is in use (set PORT)` : error.message
  console.error(`The API cannot listen: ${reason}`)
  await embedded.stop().catch(() => {})
  process.exit(1)
})

let stopping = false
async function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  console.log(`\n${signal}: stopping`)
  // Stop taking requests, let the runtime finish its step, then stop the chain.
  const http = server as typeof server & { closeAllConnections?: () => void }
  http.close()
  http.closeAllConnections?.()
  try {
    await embedded.stop()
    process.exit(0)
  } catch (error) {
    console.error(error)
    process.exit(1)
  }
}
process.once('SIGINT', () => void shutdown('SIGINT'))
process.once('SIGTERM', () => void shutdown('SIGTERM'))
