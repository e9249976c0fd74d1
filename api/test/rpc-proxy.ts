import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the proxy treats requests: pass them on, hold them unanswered, delay them, or fail them. */
export type RpcFault =
  | { kind: 'none' }
  | { kind: 'frozen' }
  | { kind: 'slow'; ms: number }
  | { kind: 'error'; status: number }

/**
 * A JSON-RPC proxy in front of a node that a test controls: `fault({ kind: 'frozen' })` holds every
 * request without answering (a node that hangs), `slow` delays each, `error` answers with an HTTP
 * error; `heal()` passes requests on again (held ones are answered then).
 *
 * @example
 * const proxy = await startRpcProxy(devnet.rpcUrl)
 * proxy.fault({ kind: 'frozen' })
 */
export async function startRpcProxy(target: string) {
  let current: RpcFault = { kind: 'none' }
  let held: (() => void)[] = []
  const forward = async (body: string, res: ServerResponse) => {
    try {
      const answer = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text())
    } catch {
      res.writeHead(502).end('bad gateway')
    }
  }
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString()
    const fault = current
    if (fault.kind === 'frozen') {
      held.push(() => void forward(body, res))
      return
    }
    if (fault.kind === 'error') {
      res.writeHead(fault.status).end('unavailable')
      return
    }
    if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms))
    await forward(body, res)
  }
  const server = createServer((req, res) => void handle(req, res))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fault(fault: RpcFault) {
      current = fault
    },
    heal() {
      current = { kind: 'none' }
      const release = held
      held = []
      for (const answer of release) answer()
    },
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export type RpcProxy = Awaited<ReturnType<typeof startRpcProxy>>
