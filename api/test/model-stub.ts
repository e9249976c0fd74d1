import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A real HTTP server speaking OpenAI chat completions: each request takes the next scripted reply,
 * either a `finish` tool call with that answer or (`null`) an HTTP 400 that the client gives up on.
 */
export async function startModelStub() {
  const queue: (string | null)[] = []
  let served = 0
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const answer = queue.shift()
      served++
      if (answer == null) {
        res.writeHead(400, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: 'stub: refused', type: 'invalid_request_error' } }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          id: `chatcmpl-${served}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: 'scripted',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: null,
                tool_calls: [
                  {
                    id: `call_${served}`,
                    type: 'function',
                    function: { name: 'finish', arguments: JSON.stringify({ answer }) },
                  },
                ],
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
        }),
      )
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    reply: (...answers: (string | null)[]) => void queue.push(...answers),
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
