/** One activity entry as a sentence for the feeds, and the links it mentions. */
import { h, money, short } from './dom.js'

const lifecycle = {
  launching: 'is launching',
  launched: 'launched',
  'launch failed': 'failed to launch',
  paused: 'was paused',
  active: 'was resumed',
  resumed: 'was resumed',
  retired: 'was retired',
  updated: 'changed its settings',
  withdrawn: 'withdrew',
  'task accepted': 'accepted a task',
  'task started': 'started a task',
  'task finished': 'finished a task',
  'task succeeded': 'succeeded at a task',
  'task failed': 'failed a task',
}

// Job events as each party records them; worded so they read right for the client and the provider.
const jobWords = {
  hiring: 'is hiring for job',
  funded: 'funded job',
  hired: 'was hired for job',
  working: 'is working on job',
  submitted: 'saw job … delivered',
  evaluated: 'evaluated job',
  completed: 'saw job … completed',
  rejected: 'saw job … rejected',
  declined: 'saw job … declined',
  declining: 'is declining job',
  expired: 'saw job … expire',
  'hired for task': 'hired for a task: job',
}

/** What kind of thing happened, for styling and filtering: launch, hire, delivery, completion, payment, refusal. */
export function categoryOf(event) {
  const what = event.data?.event
  if (event.kind === 'guardrail' || event.data?.refused) return 'refusal'
  if (event.kind === 'payment') return 'payment'
  if (event.kind === 'job') {
    if (what === 'completed') return 'completion'
    if (what === 'submitted') return 'delivery'
    if (what === 'rejected' || what === 'declined' || what === 'expired') return 'refusal'
    return 'hire'
  }
  if (event.kind === 'lifecycle' && String(what).startsWith('launch')) return 'launch'
  return event.kind
}

/** A feed entry: `<li>` with the time, the agent, and what happened. */
export function describeEvent(event, nameOf) {
  const data = event.data ?? {}
  const who = nameOf(event.agentId)
  const agent = event.agentId
    ? h('a', { href: `/agent/${event.agentId}`, dataset: { agent: event.agentId } }, who)
    : h('span', {}, who)
  const parts = [agent, ' ', ...sentence(event, data)]
  return h(
    'li',
    {
      class: `entry ${categoryOf(event)}`,
      dataset: { id: String(event.id), kind: event.kind, event: data.event ?? '', jobId: data.jobId ?? '' },
    },
    h('time', { datetime: event.createdAt }, new Date(event.createdAt).toLocaleTimeString()),
    ' ',
    ...parts,
  )
}

function jobRef(jobId) {
  return h('a', { href: `/job/${jobId}` }, `#${String(jobId).slice(0, 10)}`)
}

function sentence(event, data) {
  const what = data.event
  if (event.kind === 'job') {
    const [before, after] = (jobWords[what] ?? `${what ?? 'job'}`).split(' … ')
    const tail = after ? [` ${after}`] : []
    if (data.offering) tail.push(` (${data.offering})`)
    if (data.budget) tail.push(` for ${money(data.budget)}`)
    if (data.payout) tail.push(`, paid ${money(data.payout)}`)
    return [`${before} `, data.jobId ? jobRef(data.jobId) : '', ...tail]
  }
  if (event.kind === 'payment' && what === 'withdrawn')
    return [`withdrew ${data.amount ? money(data.amount) : ''} to ${short(data.to)}`]
  if (event.kind === 'payment') {
    const direction = data.direction === 'in' ? 'received' : 'paid'
    const amount = data.amount ? money(data.amount) : ''
    const failed = what && what !== 'paid' && what !== 'paid for task' ? ` (${what})` : ''
    return [`${direction} ${amount}${failed}`]
  }
  if (event.kind === 'guardrail')
    return [`was refused: ${data.reason ?? data.message ?? 'outside its policy'}`]
  if (event.kind === 'lifecycle') return [lifecycle[what] ?? what ?? 'changed']
  if (event.kind === 'tx')
    return [`sent a transaction${data.txHash ? ` ${String(data.txHash).slice(0, 12)}…` : ''}`]
  if (event.kind === 'model')
    return [
      `model step ${data.step ?? ''}${data.text ? `: ${String(data.text).slice(0, 120)}` : ''}${data.error ? `: ${data.error}` : ''}`,
    ]
  if (event.kind === 'tool')
    return [
      `tool ${data.name ?? ''} ${data.ok ? 'answered' : data.refused ? 'was refused' : 'failed'}${data.reason ? `: ${data.reason}` : ''}`,
    ]
  return [what ?? event.kind]
}
