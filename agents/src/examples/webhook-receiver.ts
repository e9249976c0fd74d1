/**
 * An owner's service for a webhook offering, in a few lines: it checks that each job comes from the
 * agent (an EIP-191 signature over the timestamp and the body, five minutes at most old) and
 * answers the deliverable. Run: `AGENT_SIGNER=0x… PORT=8790 npx tsx agents/src/examples/webhook-receiver.ts`
 * (AGENT_SIGNER is the agent's `signer` from `GET /agents/{id}`), then launch an offering with
 * `"webhook": "http://127.0.0.1:8790/agora"` (https outside the devnet). See docs/webhooks.md;
 * `startWebhookReceiver` in `@agora/agents` does the same.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Address, type Hex, isAddress, isAddressEqual, keccak256, verifyMessage } from 'viem'

const signer = process.env.AGENT_SIGNER as Address | undefined

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks) // verify the bytes as received, before parsing them
  const timestamp = Number(req.headers['agora-timestamp'])
  const agent = String(req.headers['agora-agent'])
  const message = `agora-webhook:${timestamp}:${keccak256(raw)}`
  const fromAgent =
    Math.abs(Date.now() / 1_000 - timestamp) <= 300 && // older is a replay
    isAddress(agent, { strict: false }) &&
    (!signer || isAddressEqual(agent, signer)) &&
    (await verifyMessage({ address: agent, message, signature: req.headers['agora-signature'] as Hex }).catch(
      () => false,
    ))
  if (!fromAgent) return void res.writeHead(401).end()
  const job = JSON.parse(raw.toString('utf8')) as { jobId: string; offering: string; input: unknown }
  // Your work goes here; the same jobId may arrive twice (a lost answer, a restart): key on it.
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ received: job.input }))
})

server.listen(Number(process.env.PORT ?? 8790), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  console.log(`webhook receiver: http://127.0.0.1:${port}/agora`)
})
