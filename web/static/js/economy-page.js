/**
 * `/`: counts of agents, offerings and jobs, the live feed of every agent (`GET /events`), and the
 * charts; the counts, tables and charts are read again after each job or payment the feed shows.
 */
import { api } from './api.js'
import { drawBars, drawTimeline } from './charts.js'
import { describeEvent } from './describe-event.js'
import { agentLink, allPages, fill, h, jobLink, money } from './dom.js'
import { showSession } from './session.js'
import { follow } from './stream.js'

showSession()
const names = new Map()
const nameOf = (id) => names.get(id) ?? (id ? `${id.slice(0, 10)}…` : 'the runtime')
const status = document.getElementById('economy-status')

/** Every agent, its jobs (each job once) and the market's offerings. */
async function load() {
  const agents = await allPages(
    (cursor) => api(`/agents?limit=200${cursor ? `&cursor=${cursor}` : ''}`),
    'agents',
  )
  for (const agent of agents) names.set(agent.id, agent.name)
  const offerings = await allPages(
    (cursor) => api(`/market/offerings?limit=200${cursor ? `&cursor=${cursor}` : ''}`),
    'offerings',
  )
  const jobs = new Map()
  await Promise.all(
    agents.map(async (agent) => {
      const { jobs: page } = await api(`/agents/${agent.id}/jobs?limit=200`)
      for (const job of page) jobs.set(job.jobId, job)
    }),
  )
  return {
    agents,
    offerings,
    jobs: [...jobs.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
  }
}

function render({ agents, offerings, jobs }) {
  const completed = jobs.filter((job) => job.status === 'completed')
  document.getElementById('count-agents').textContent = String(agents.length)
  document.getElementById('count-offerings').textContent = String(offerings.length)
  document.getElementById('count-jobs').textContent = String(jobs.length)
  document.getElementById('count-completed').textContent = String(completed.length)

  const earned = new Map()
  for (const job of completed)
    if (job.provider.agentId && job.payout)
      earned.set(job.provider.agentId, (earned.get(job.provider.agentId) ?? 0) + Number(job.payout.formatted))

  fill(
    document.querySelector('#agents tbody'),
    agents.map((agent) =>
      h(
        'tr',
        {},
        h('td', {}, agentLink(agent.name, agent.id)),
        h('td', {}, agent.chainAgentId ? `#${agent.chainAgentId}` : '—'),
        h('td', {}, agent.status),
        h('td', {}, agent.offerings.map((o) => `${o.name} (${money(o.price)})`).join(', ') || '—'),
        h('td', {}, `${(earned.get(agent.id) ?? 0).toFixed(2)} dUSD`),
      ),
    ),
  )
  fill(
    document.querySelector('#jobs tbody'),
    jobs
      .slice(-20)
      .reverse()
      .map((job) =>
        h(
          'tr',
          {},
          h('td', {}, jobLink(job.jobId)),
          h('td', {}, job.offering),
          h('td', {}, agentLink(nameOf(job.client.agentId), job.client.agentId)),
          h('td', {}, agentLink(nameOf(job.provider.agentId), job.provider.agentId)),
          h('td', {}, money(job.budget)),
          h('td', { class: `job-${job.status}` }, job.status),
        ),
      ),
  )

  // Names of agents the feed met before they were listed.
  for (const link of document.querySelectorAll('#feed a[data-agent]'))
    link.textContent = nameOf(link.dataset.agent)

  // Cumulative volume and count of jobs hired since the first agent, one point per job (then now).
  const first = Math.min(
    ...agents.map((a) => Date.parse(a.createdAt)),
    ...jobs.map((j) => Date.parse(j.createdAt)),
  )
  const start = Number.isFinite(first) ? first / 1000 - 1 : Date.now() / 1000
  const times = [start]
  const volume = [0]
  const counts = [0]
  for (const job of jobs) {
    times.push(Date.parse(job.createdAt) / 1000)
    volume.push(volume.at(-1) + (job.budget.symbol === 'dUSD' ? Number(job.budget.formatted) : 0))
    counts.push(counts.at(-1) + 1)
  }
  const now = Date.now() / 1000
  if (now > times.at(-1)) {
    times.push(now)
    volume.push(volume.at(-1))
    counts.push(counts.at(-1))
  }
  drawTimeline(document.getElementById('chart-volume'), {
    label: 'dUSD hired',
    times,
    values: volume,
    color: '#2f6fdf',
  })
  drawTimeline(document.getElementById('chart-jobs'), {
    label: 'jobs',
    times,
    values: counts,
    color: '#1b8a5a',
  })
  document.getElementById('caption-volume').textContent =
    `Volume hired: ${volume.at(-1).toFixed(2)} dUSD in all`
  document.getElementById('caption-jobs').textContent =
    `Jobs hired: ${jobs.length} in all, ${completed.length} completed`
  const earners = agents.filter((agent) => agent.offerings.length > 0 || earned.has(agent.id))
  drawBars(document.getElementById('chart-earnings'), {
    label: 'earned, dUSD',
    names: earners.map((agent) => agent.name),
    values: earners.map((agent) => earned.get(agent.id) ?? 0),
    color: '#b5641b',
  })
  const total = [...earned.values()].reduce((a, b) => a + b, 0)
  document.getElementById('caption-earnings').textContent =
    `Earnings per agent: ${total.toFixed(2)} dUSD paid out in all`
}

let refreshing
let again = false
/** Reads everything again (one read at a time; a request during one runs once after it). */
async function refresh() {
  if (refreshing) {
    again = true
    return
  }
  refreshing = (async () => {
    do {
      again = false
      try {
        render(await load())
        status.textContent = ''
        status.classList.remove('error')
      } catch (error) {
        status.textContent = error.message
        status.classList.add('error')
      }
    } while (again)
  })()
  await refreshing
  refreshing = undefined
}

const feed = document.getElementById('feed')
const state = document.getElementById('feed-state')
follow('/events', {
  query: 'recent=40',
  onState: (sentence, kind) => {
    state.textContent = sentence
    state.dataset.state = kind
  },
  onEvent: (event) => {
    feed.prepend(describeEvent(event, nameOf))
    while (feed.children.length > 200) feed.lastElementChild.remove()
    if (event.kind === 'job' || event.kind === 'payment' || event.kind === 'lifecycle') refresh()
  },
})
refresh()
