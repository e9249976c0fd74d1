/**
 * `/job/:jobId`: the job's terms, the life of its escrow (created and funded, submitted, settled)
 * with each transaction, and its input and deliverable when the reader is one of its parties. Read
 * again whenever the provider's feed mentions the job.
 */
import { api } from './api.js'
import { agentLink, facts, fill, h, money, short, time } from './dom.js'
import { showSession } from './session.js'
import { follow } from './stream.js'

showSession()
const jobId = document.getElementById('job-id').textContent
const status = document.getElementById('job-status')
const settled = {
  completed: 'Completed: the provider was paid',
  rejected: 'Rejected: the client was refunded',
  declined: 'Declined by the provider: the client was refunded',
  expired: 'Expired: the client was refunded',
  failed: 'Failed',
}

function step(label, done, when, tx) {
  return h(
    'li',
    { class: done ? 'done' : 'todo', dataset: { step: label } },
    h('strong', {}, label),
    when ? ` · ${time(when)}` : '',
    tx ? h('span', {}, ' · transaction ', h('code', { title: tx }, short(tx))) : '',
  )
}

/** Agents' names by id, read once each. */
const names = new Map()
function nameOf(id) {
  if (!names.has(id))
    names.set(
      id,
      api(`/agents/${encodeURIComponent(id)}`).then(
        (a) => a.name,
        () => null,
      ),
    )
  return names.get(id)
}

function render(job, clientName, providerName) {
  facts(document.getElementById('job-facts'), [
    ['Status', h('span', { id: 'job-state', class: `job-${job.status}` }, job.status)],
    ['Offering', job.offering],
    [
      'Client',
      job.client.agentId
        ? agentLink(clientName ?? short(job.client.address), job.client.agentId)
        : h('code', {}, job.client.address),
    ],
    [
      'Provider',
      agentLink(
        providerName ? `${providerName} #${job.provider.chainAgentId}` : `#${job.provider.chainAgentId}`,
        job.provider.agentId ?? job.provider.chainAgentId,
      ),
    ],
    ['Price (in escrow)', money(job.budget)],
    ['Paid out', money(job.payout)],
    ['Fee', money(job.fee)],
    ['Rating', job.rating === null ? '—' : `${job.rating} / 100`],
    ['Deadline', time(job.deadline)],
    ['Spec hash', h('code', {}, job.specHash)],
  ])
  const s = job.status
  const submittedOrLater =
    Boolean(job.transactions.submit) || ['submitted', 'completed', 'rejected'].includes(s)
  fill(document.getElementById('job-life'), [
    step('Created and funded', s !== 'pending', job.createdAt, job.transactions.create),
    step('Submitted', submittedOrLater, null, job.transactions.submit),
    step(
      settled[s] ?? 'Settled',
      Boolean(settled[s]),
      settled[s] ? job.updatedAt : null,
      job.transactions.settle,
    ),
  ])
  const work = document.getElementById('job-work')
  if (job.input === null && job.deliverable === null)
    fill(
      work,
      h(
        'p',
        { id: 'job-private', class: 'hint' },
        "Private: the input and the deliverable are shown only to the job's parties, signed in.",
      ),
    )
  else
    fill(
      work,
      h('h3', {}, 'Input'),
      h('pre', { id: 'job-input' }, JSON.stringify(job.input, null, 2)),
      h('h3', {}, 'Deliverable'),
      h(
        'pre',
        { id: 'job-deliverable' },
        job.deliverable === null ? 'Not delivered yet.' : JSON.stringify(job.deliverable, null, 2),
      ),
    )
}

let following = false
async function load() {
  try {
    const job = await api(`/jobs/${encodeURIComponent(jobId)}`)
    const [clientName, providerName] = await Promise.all([
      job.client.agentId ? nameOf(job.client.agentId) : null,
      job.provider.agentId ? nameOf(job.provider.agentId) : null,
    ])
    render(job, clientName, providerName)
    status.textContent = ''
    status.classList.remove('error')
    if (!following && job.provider.agentId) {
      following = true
      follow(`/agents/${job.provider.agentId}/events`, {
        onEvent: (event) => {
          if (event.data?.jobId === jobId) load()
        },
      })
    }
  } catch (error) {
    status.textContent = error.message
    status.classList.add('error')
  }
}
load()
