/**
 * `/agent/:id`: the agent's identity, balances, reputation, offerings, jobs, payments and live
 * activity (`GET /agents/:id/events`); for its signed-in owner, the controls: pause, resume, retire,
 * fund (devnet), hire, pay, withdraw, a task followed step by step, and its settings.
 */
import { api, session, withProgress } from './api.js'
import { describeEvent } from './describe-event.js'
import { agentLink, facts, fill, h, jobLink, money, short } from './dom.js'
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

/** The owner's controls, put on the page only when the signed-in address owns the agent. */
function ownerControls() {
  const current = session()
  const slot = document.getElementById('owner-slot')
  if (!current || current.address.toLowerCase() !== agent.owner.toLowerCase()) {
    slot.replaceChildren()
    return
  }
  if (slot.childElementCount > 0) return
  slot.append(document.getElementById('owner-template').content.cloneNode(true))
  const ownerStatus = document.getElementById('owner-status')
  const base = `/agents/${encodeURIComponent(agent.id)}`
  const run = (button, progress, action, done) =>
    withProgress({ button, status: ownerStatus, progress, done }, async () => {
      const result = await action()
      await loadAll()
      return result
    })

  for (const button of slot.querySelectorAll('button[data-action]')) {
    const action = button.dataset.action
    button.addEventListener('click', () => {
      if (action === 'fund')
        run(
          button,
          'Funding from the devnet faucet: minting dUSD and sending gas…',
          () => api('/devnet/faucet', { body: { to: agent.id } }),
          (grant) => `Funded with ${money(grant.dUSD)} and ${money(grant.eth)}.`,
        )
      else
        run(
          button,
          `${action === 'pause' ? 'Pausing' : action === 'resume' ? 'Resuming' : 'Retiring'}…`,
          () => api(`${base}/${action}`, { method: 'POST' }),
          (a) => `The agent is ${a.status}.`,
        )
    })
  }

  const hire = slot.querySelector('#hire-form')
  api('/market/offerings?limit=100').then(({ offerings }) => {
    fill(
      hire.elements.namedItem('offering'),
      offerings
        .filter((m) => m.agent.chainAgentId !== agent.chainAgentId)
        .map((m) =>
          h(
            'option',
            { value: `${m.agent.chainAgentId}/${m.offering.name}` },
            `${m.agent.name} #${m.agent.chainAgentId} · ${m.offering.name} · ${money(m.offering.price)}`,
          ),
        ),
    )
  })
  hire.addEventListener('submit', (event) => {
    event.preventDefault()
    const form = new FormData(hire)
    const [provider, offering] = String(form.get('offering')).split('/')
    run(
      hire.querySelector('button'),
      'Hiring: creating and funding the escrow on chain…',
      async () => {
        let input
        try {
          input = JSON.parse(String(form.get('input')))
        } catch {
          throw new Error('The input is not valid JSON.')
        }
        const maxPrice = String(form.get('maxPrice')).trim()
        return api(`${base}/hire`, {
          body: {
            provider,
            offering,
            input,
            ...(maxPrice ? { maxPrice } : {}),
            idempotencyKey: crypto.randomUUID(),
          },
        })
      },
      (job) => `Hired: job #${job.jobId.slice(0, 10)} is ${job.status}; follow it in the activity.`,
    )
  })

  const pay = slot.querySelector('#pay-form')
  pay.addEventListener('submit', (event) => {
    event.preventDefault()
    const form = new FormData(pay)
    const memo = String(form.get('memo')).trim()
    run(
      pay.querySelector('button'),
      'Paying…',
      () =>
        api(`${base}/pay`, {
          body: {
            to: String(form.get('to')).trim(),
            amount: String(form.get('amount')).trim(),
            token: 'dUSD',
            ...(memo ? { memo } : {}),
            idempotencyKey: crypto.randomUUID(),
          },
        }),
      (p) => `Paid ${money(p.amount)} (${p.status}).`,
    )
  })

  const withdraw = slot.querySelector('#withdraw-form')
  withdraw.addEventListener('submit', (event) => {
    event.preventDefault()
    const form = new FormData(withdraw)
    const amount = String(form.get('amount')).trim()
    run(
      withdraw.querySelector('button'),
      'Withdrawing to the owner…',
      () =>
        api(`${base}/withdraw`, {
          body: {
            token: String(form.get('token')).trim(),
            ...(amount ? { amount } : {}),
            idempotencyKey: crypto.randomUUID(),
          },
        }),
      (w) => `Withdrawal ${w.status}.`,
    )
  })

  const task = slot.querySelector('#task-form')
  task.addEventListener('submit', (event) => {
    event.preventDefault()
    const form = new FormData(task)
    fill(document.getElementById('task-steps'))
    run(
      task.querySelector('button'),
      'Starting the task…',
      async () => {
        const started = await api(`${base}/tasks`, {
          body: { goal: String(form.get('goal')), maxSteps: Number(form.get('maxSteps')) || 8 },
        })
        watchedTask = started.taskId
        return started
      },
      (t) => `Task ${t.taskId} is running: its steps follow below.`,
    )
  })

  const settings = slot.querySelector('#settings-form')
  api(base).then((owned) => {
    settings.elements.namedItem('description').value = owned.description
    settings.elements.namedItem('policy').value = JSON.stringify(owned.policy)
  })
  settings.addEventListener('submit', (event) => {
    event.preventDefault()
    const form = new FormData(settings)
    run(
      settings.querySelector('button'),
      'Saving the settings…',
      async () => {
        const patch = {}
        const description = String(form.get('description'))
        if (description !== agent.description) patch.description = description
        const instructions = String(form.get('instructions')).trim()
        if (instructions) patch.instructions = instructions
        for (const name of ['policy', 'offerings']) {
          const text = String(form.get(name)).trim()
          if (!text) continue
          try {
            const value = JSON.parse(text)
            const before = name === 'policy' ? agent.policy : null
            if (JSON.stringify(value) !== JSON.stringify(before)) patch[name] = value
          } catch {
            throw new Error(`The ${name} field is not valid JSON.`)
          }
        }
        if (Object.keys(patch).length > 0) return api(base, { method: 'PATCH', body: patch })
        throw new Error('Nothing was changed.')
      },
      (answer) =>
        answer.safeTxHash
          ? `The Safe's owners must sign transaction ${short(answer.safeTxHash)} first.`
          : 'Saved.',
    )
  })
}

let watchedTask

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
  ownerControls()
  follow(`/agents/${encodeURIComponent(agent.id)}/events`, {
    onState: (sentence, kind) => {
      state.textContent = sentence
      state.dataset.state = kind
    },
    onEvent: (event) => {
      const entry = describeEvent(event, () => agent.name)
      feed.prepend(entry)
      while (feed.children.length > 300) feed.lastElementChild.remove()
      if (watchedTask && event.data?.taskId === watchedTask)
        document.getElementById('task-steps')?.append(describeEvent(event, () => 'step:'))
      if (event.kind !== 'model' && event.kind !== 'tool') reloadSoon()
    },
  })
}
