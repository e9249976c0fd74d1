/**
 * `/agent/:id`: the agent's identity, balances, reputation, offerings, jobs, payments and live
 * activity (`GET /agents/:id/events`); for its signed-in owner, the controls: pause, resume, retire,
 * fund (devnet), hire, pay, withdraw, a task followed step by step, and its settings.
 */
import { api } from './api.js'
import { describeEvent } from './describe-event.js'
import { agentLink, facts, fill, h, jobLink, money, short } from './dom.js'
import { mountOwnerControls } from './owner-controls.js'
import { showSession } from './session.js'
import { follow } from './stream.js'

showSession()
const heading = document.getElementById('agent-name')
const id = heading.dataset.agentId
const status = document.getElementById('agent-status')
let agent

async function loadAgent() {
  agent = await api(`/agents/${encodeURIComponent(id)}`)
  heading.textContent = agent.name
  document.title = `${agent.name} · Agora`
  document.getElementById('agent-description').textContent = agent.description
  facts(document.getElementById('identity'), [
    ['Status', h('span', { id: 'agent-state' }, agent.status)],
    ['Token id', agent.chainAgentId ? `#${agent.chainAgentId}` : 'launching'],
    ['Token-bound account', h('code', {}, agent.tokenBoundAccount ?? '—')],
    ['Safe', h('code', {}, agent.safe ?? '—')],
    ['Owner', h('code', {}, agent.owner)],
    ['Guardrails', agent.guardrails ?? '—'],
    ['Model', agent.model ? `${agent.model.provider}/${agent.model.model}` : 'none'],
    [
      'Registration file',
      agent.chainAgentId
        ? h('a', { href: `/registration/${agent.chainAgentId}` }, `/registration/${agent.chainAgentId}`)
        : '—',
    ],
  ])
  fill(
    document.getElementById('agent-offerings'),
    agent.offerings.length
      ? agent.offerings.map((o) =>
          h(
            'li',
            { class: 'card' },
            h('strong', {}, o.name),
            ` · ${money(o.price)}`,
            h('p', {}, o.description),
            h('small', {}, o.capabilities.join(', ')),
          ),
        )
      : [h('li', { class: 'hint' }, 'No offerings: it only buys.')],
  )
}

async function loadMoney() {
  const [{ balances }, reputation] = await Promise.all([
    api(`/agents/${encodeURIComponent(id)}/balances`),
    api(`/agents/${encodeURIComponent(id)}/reputation`).catch(() => null),
  ])
  facts(
    document.getElementById('balances'),
    balances.map((b) => [b.symbol, h('span', { dataset: { balance: b.symbol } }, money(b))]),
  )
  facts(
    document.getElementById('reputation'),
    reputation
      ? [
          ['Jobs completed', String(reputation.completed)],
          ['Rejected / expired', `${reputation.rejected} / ${reputation.expired}`],
          ['Average rating', `${reputation.averageRating} / 100`],
          ['Earned', reputation.earned.map(money).join(', ') || '—'],
        ]
      : [['Reputation', 'none yet']],
  )
}

async function loadJobs() {
  const [{ jobs }, { payments }] = await Promise.all([
    api(`/agents/${encodeURIComponent(id)}/jobs?limit=50`),
    api(`/agents/${encodeURIComponent(id)}/payments?limit=50`),
  ])
  fill(
    document.querySelector('#jobs tbody'),
    jobs.map((job) =>
      h(
        'tr',
        { dataset: { jobId: job.jobId } },
        h('td', {}, jobLink(job.jobId)),
        h('td', {}, job.offering),
        h('td', {}, job.provider.agentId === agent?.id ? 'provider' : 'client'),
        h('td', {}, money(job.budget)),
        h('td', { class: `job-${job.status}` }, job.status),
      ),
    ),
  )
  fill(
    document.querySelector('#payments tbody'),
    payments.map((p) =>
      h(
        'tr',
        {},
        h(
          'td',
          {},
          p.to.chainAgentId
            ? agentLink(`#${p.to.chainAgentId}`, p.to.agentId ?? p.to.chainAgentId)
            : short(p.to.address),
        ),
        h('td', {}, money(p.amount)),
        h('td', {}, p.status),
        h('td', {}, p.memo ?? '—'),
      ),
    ),
  )
}

async function loadAll() {
  try {
    await loadAgent()
    await Promise.all([loadMoney(), loadJobs()])
    status.textContent = ''
    status.classList.remove('error')
  } catch (error) {
    status.textContent = error.message
    status.classList.add('error')
  }
}

let watchedTask

/** One step of the watched task; once it ends, its answer (or error) read from the task itself. */
function showStep(event) {
  document.getElementById('task-steps')?.append(describeEvent(event, () => agent.name))
  const what = event.data?.event
  if (what !== 'task succeeded' && what !== 'task failed') return
  const answer = document.getElementById('task-answer')
  api(`/agents/${encodeURIComponent(agent.id)}/tasks/${encodeURIComponent(event.data.taskId)}`)
    .then((task) => {
      answer.classList.toggle('error', task.status === 'failed')
      answer.textContent =
        task.status === 'succeeded'
          ? `Answer after ${task.steps} steps: ${task.answer}`
          : `The task failed after ${task.steps} steps: ${task.error}`
    })
    .catch((error) => {
      answer.classList.add('error')
      answer.textContent = error.message
    })
}
/** Steps of tasks not (yet) watched, by task id. */
const taskEvents = new Map()

const feed = document.getElementById('feed')
const state = document.getElementById('feed-state')
let reloading
function reloadSoon() {
  if (reloading) return
  reloading = setTimeout(async () => {
    reloading = undefined
    await loadAll()
  }, 300)
}

await loadAll()
if (agent) {
  mountOwnerControls(agent, {
    reload: loadAll,
    watchTask: (taskId) => {
      watchedTask = taskId
      // Its first steps may have come before the answer that named it.
      for (const event of taskEvents.get(taskId) ?? []) showStep(event)
    },
  })
  follow(`/agents/${encodeURIComponent(agent.id)}/events`, {
    onState: (sentence, kind) => {
      state.textContent = sentence
      state.dataset.state = kind
    },
    onEvent: (event) => {
      const entry = describeEvent(event, () => agent.name)
      feed.prepend(entry)
      while (feed.children.length > 300) feed.lastElementChild.remove()
      const taskId = event.data?.taskId
      if (taskId && taskId === watchedTask) showStep(event)
      else if (taskId) taskEvents.set(taskId, [...(taskEvents.get(taskId) ?? []), event])
      if (event.kind !== 'model' && event.kind !== 'tool') reloadSoon()
    },
  })
}
