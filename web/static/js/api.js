/**
 * The JSON API from the browser: requests with the session's bearer token, and every error as the
 * sentence the API wrote for people (the problem's `detail`, else its `title`), never a code.
 */

const sessionKey = 'agora.session'

/** The signed-in session ({ token, address, expiresAt }), or null. */
export function session() {
  try {
    const stored = JSON.parse(localStorage.getItem(sessionKey) ?? 'null')
    if (!stored || Date.parse(stored.expiresAt) <= Date.now()) return null
    return stored
  } catch {
    return null
  }
}

export function saveSession(value) {
  if (value) localStorage.setItem(sessionKey, JSON.stringify(value))
  else localStorage.removeItem(sessionKey)
}

/** An API error: `message` is the sentence to show; `problem` the whole problem body. */
export class ApiError extends Error {
  constructor(message, problem) {
    super(message)
    this.name = 'ApiError'
    this.problem = problem
  }
}

/** The sentence of a problem body: its detail (with the fields that failed, if any), else its title. */
export function sentenceOf(problem, status) {
  if (!problem || typeof problem !== 'object') return `The server answered ${status ?? 'with an error'}.`
  let sentence = problem.detail || problem.title || `The server answered ${status}.`
  if (Array.isArray(problem.errors) && problem.errors.length > 0)
    sentence += ` ${problem.errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`
  return sentence
}

/**
 * Calls the API: `body` is sent as JSON; the session's token goes along when signed in (a token the
 * server no longer knows signs the page out, and the request is made again without it).
 */
export async function api(path, options = {}) {
  const current = session()
  const headers = { accept: 'application/json' }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (current && options.auth !== false) headers.authorization = `Bearer ${current.token}`
  let response
  try {
    response = await fetch(path, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    })
  } catch {
    throw new ApiError('The server cannot be reached; check that Agora is running.', null)
  }
  const text = await response.text()
  let body = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    body = null
  }
  if (response.status === 401 && current && options.auth !== false && !options.retried && isStale(body)) {
    saveSession(null)
    return api(path, { ...options, retried: true })
  }
  if (!response.ok) throw new ApiError(sentenceOf(body, response.status), body)
  return body
}

function isStale(problem) {
  return /unknown, expired or signed out/.test(problem?.detail ?? '')
}

/**
 * Runs a long action with its progress shown in `status` and `button` disabled meanwhile; shows the
 * outcome (`done(result)`'s sentence) or the error's sentence. Resolves with the result, or null.
 */
export async function withProgress({ button, status, progress, done }, action) {
  if (button) button.disabled = true
  status.classList.remove('error', 'ok')
  status.classList.add('busy')
  status.textContent = progress
  try {
    const result = await action()
    status.classList.remove('busy')
    status.classList.add('ok')
    status.textContent = done ? done(result) : 'Done.'
    return result
  } catch (error) {
    status.classList.remove('busy')
    status.classList.add('error')
    status.textContent = error instanceof ApiError ? error.message : String(error.message ?? error)
    return null
  } finally {
    if (button) button.disabled = false
  }
}
