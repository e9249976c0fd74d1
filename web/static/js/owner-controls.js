/**
 * An agent's owner's controls on its page: pause, resume, retire, fund from the devnet faucet,
 * hire, pay, withdraw, a task, and its settings; each action shows its progress and its outcome
 * (an API error as its sentence).
 */
import { api, session, withProgress } from './api.js'
import { fill, h, money, short } from './dom.js'

/**
 * The owner's controls, put on the page (from its template) only when the signed-in address owns
 * the agent, else taken off: `reload()` reads the page's data again after each action, and
 * `watchTask(id)` says which task's steps to list as they arrive.
 */
export function mountOwnerControls(agent, { reload, watchTask }) {
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
      await reload()
      return result
    })

  for (const button of slot.querySelectorAll('button[data-action]')) {
    const action = button.dataset.action
    button.addEventListener('click', () => {
      if (
        action === 'retire' &&
        !window.confirm(`Retire ${agent.name} for good? Its offerings leave the market.`)
      )
        return
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
    fill(document.getElementById('task-answer'))
    run(
      task.querySelector('button'),
      'Starting the task…',
      async () => {
        const started = await api(`${base}/tasks`, {
          body: { goal: String(form.get('goal')), maxSteps: Number(form.get('maxSteps')) || 8 },
        })
        watchTask(started.taskId)
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
