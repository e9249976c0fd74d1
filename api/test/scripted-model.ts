import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One scripted turn: tool calls (by name, with their arguments), a plain answer, or an HTTP error. */
export type ScriptedTurn =
  | { call: { name: string; arguments: Record<string, unknown> }[] }
  | { answer: string }
  | { status: number }

/** What the model server was asked: the messages and the tools offered with their JSON Schemas. */
export type ScriptedRequest = {
  messages: { role: string; content?: unknown }[]
  tools?: { type: string; function: { name: string; parameters: Record<string, unknown> } }[]
}

/**
 * A real HTTP server speaking OpenAI chat completions that plays a script, turn by turn, and keeps
 * every request: the stand-in for a model that calls the agent tools.
 */
export async function startScriptedModel() {
  const script: ScriptedTurn[] = []
  const requests: ScriptedRequest[] = []
  let served = 0
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => {
      requests.push(JSON.parse(body) as ScriptedRequest)
      served++
      const turn = script.shift() ?? { status: 400 } // unscripted: refused, and not retried
      if ('status' in turn) {
        res.writeHead(turn.status, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: 'scripted refusal', type: 'invalid_request_error' } }))
        return
      }
      const message =
        'answer' in turn
          ? { role: 'assistant', content: turn.answer }
          : {
              role: 'assistant',
              content: null,
              tool_calls: turn.call.map((c, i) => ({
                id: `call_${served}_${i}`,
                type: 'function',
                function: { name: c.name, arguments: JSON.stringify(c.arguments) },
              })),
            }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          id: `chatcmpl-${served}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: 'scripted',
          choices: [{ index: 0, message, finish_reason: 'answer' in turn ? 'stop' : 'tool_calls' }],
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
    requests,
    play: (...turns: ScriptedTurn[]) => void script.push(...turns),
    /** Shorthand for tasks: each answer is a `finish` call with it; `null` is an HTTP 400 the client gives up on. */
    reply: (...answers: (string | null)[]) =>
      void script.push(
        ...answers.map(
          (answer): ScriptedTurn =>
            answer === null ? { status: 400 } : { call: [{ name: 'finish', arguments: { answer } }] },
        ),
      ),
    pending: () => script.length,
    close: () => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
