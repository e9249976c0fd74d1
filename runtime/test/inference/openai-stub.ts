import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A real HTTP server speaking the (non-streaming) OpenAI chat-completions protocol, answering from
 * a scripted queue, so inference code is tested through the actual client, retries and timeouts.
 */

export type StubUsage = { promptTokens: number; completionTokens: number }

export type StubToolCall = {
  name: string
  /** An object is sent as JSON; a string is sent as is, which is how malformed JSON is scripted. */
  arguments: string | Record<string, unknown>
  id?: string
}

export type StubReply =
  | { text: string; usage?: StubUsage }
  | { toolCalls: StubToolCall[]; text?: string; usage?: StubUsage }
  | { status: number; message?: string }
  | { delayMs: number; reply: StubReply }

export type StubRequest = {
  path: string
  model: string
  messages: { role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }[]
  tools?: {
    type: string
    function: { name: string; description?: string; parameters: Record<string, unknown> }
  }[]
  toolChoice?: unknown
  body: Record<string, unknown>
  authorization: string | undefined
}

export type OpenAIStub = {
  /** Ends in `/v1`, like the servers it imitates. */
  baseURL: string
  requests: StubRequest[]
  reply(...replies: StubReply[]): void
  /** Replies not consumed yet; a test that scripted exactly what it expects ends with none. */
  pending(): number
  close(): Promise<void>
}

export const defaultStubUsage: StubUsage = { promptTokens: 12, completionTokens: 5 }

export async function startOpenAIStub(): Promise<OpenAIStub> {
  const queue: StubReply[] = []
  const requests: StubRequest[] = []
  let counter = 0

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: { message: String(error), type: 'stub_error' } })
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      send(res, 404, { error: { message: `stub: no route ${req.method} ${req.url}`, type: 'not_found' } })
      return
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
    requests.push({
      path: req.url,
      model: String(body.model),
      messages: body.messages as StubRequest['messages'],
      tools: body.tools as StubRequest['tools'],
      toolChoice: body.tool_choice,
      body,
      authorization: req.headers.authorization,
    })
    let scripted = queue.shift()
    // A 400 is not retried, so an unexpected extra request fails the test at once and visibly.
    if (!scripted) {
      send(res, 400, { error: { message: 'stub: no scripted reply left', type: 'invalid_request_error' } })
      return
    }
    while ('delayMs' in scripted) {
      const delayed: { delayMs: number; reply: StubReply } = scripted
      await new Promise((resolve) => setTimeout(resolve, delayed.delayMs))
      if (res.destroyed) return
      scripted = delayed.reply
    }
    const reply: Exclude<StubReply, { delayMs: number }> = scripted
    if ('status' in reply) {
      send(res, reply.status, {
        error: { message: reply.message ?? `stub: scripted HTTP ${reply.status}`, type: 'server_error' },
      })
      return
    }
    const usage = reply.usage ?? defaultStubUsage
    const toolCalls = 'toolCalls' in reply ? reply.toolCalls : []
    counter += 1
    send(res, 200, {
      id: `chatcmpl-stub-${counter}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: String(body.model),
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: reply.text ?? null,
            ...(toolCalls.length > 0 && {
              tool_calls: toolCalls.map((call, i) => ({
                id: call.id ?? `call_${counter}_${i}`,
                type: 'function',
                function: {
                  name: call.name,
                  arguments:
                    typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
                },
              })),
            }),
          },
          finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
        },
      ],
      usage: {
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.promptTokens + usage.completionTokens,
      },
    })
  }

  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    reply: (...replies) => {
      queue.push(...replies)
    },
    pending: () => queue.length,
    close: async () => {
      // Requests the client gave up on (timeouts) may still hold sockets open.
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      )
    },
  }
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.destroyed) return
  const text = JSON.stringify(payload)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
