/**
 * Follows a server-sent event stream of the API (`/events`, `/agents/:id/events`) with the
 * session's token (which EventSource cannot send), and resumes after a drop where it stopped: each
 * reconnection sends the last event's id as `Last-Event-ID`, so nothing is missed or repeated.
 */
import { sentenceOf, session } from './api.js'

/**
 * Calls `onEvent(activity)` for each event and `onState(sentence)` when the connection changes;
 * returns the function that stops following. `query` is added to the first connection only.
 */
export function follow(path, { onEvent, onState, query = '' }) {
  let lastId
  let stopped = false
  let controller
  let delay = 500

  async function connect() {
    controller = new AbortController()
    const headers = { accept: 'text/event-stream' }
    const current = session()
    if (current) headers.authorization = `Bearer ${current.token}`
    if (lastId !== undefined) headers['last-event-id'] = String(lastId)
    const url = lastId === undefined && query ? `${path}?${query}` : path
    const response = await fetch(url, { headers, signal: controller.signal })
    if (!response.ok) {
      const problem = await response.json().catch(() => null)
      throw new Error(sentenceOf(problem, response.status))
    }
    onState?.('Live', 'live')
    delay = 500
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += value
      let end = buffer.indexOf('\n\n')
      while (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        dispatch(block)
        end = buffer.indexOf('\n\n')
      }
    }
  }

  function dispatch(block) {
    let data = ''
    let id
    for (const line of block.split('\n')) {
      if (line.startsWith('data:')) data += line.slice(5).trimStart()
      else if (line.startsWith('id:')) id = Number(line.slice(3).trim())
    }
    if (!data) return
    if (id !== undefined) lastId = id
    try {
      onEvent(JSON.parse(data))
    } catch (error) {
      console.error(error)
    }
  }

  async function run() {
    while (!stopped) {
      try {
        await connect()
        if (!stopped) onState?.('Reconnecting…', 'waiting')
      } catch (error) {
        if (stopped) return
        onState?.(`Disconnected: ${error.message} Reconnecting…`, 'error')
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 10_000)
    }
  }
  run()
  return () => {
    stopped = true
    controller?.abort()
  }
}
