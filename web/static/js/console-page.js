/**
 * `/console`: sign in (a browser wallet; on the devnet, a development account), the signed-in
 * owner's agents, and the launch form (`POST /agents`), whose answer links to the new agent's page.
 */
import { api, session, withProgress } from './api.js'
import { agentLink, fill, h } from './dom.js'
import { devAccounts, showSession, signInWithDevAccount, signInWithWallet, signOut } from './session.js'

const devnet = document.body.dataset.devnet === 'true'
const signinStatus = document.getElementById('signin-status')
const walletButton = document.getElementById('wallet-sign-in')
const signOutButton = document.getElementById('sign-out')
const mine = document.getElementById('my-agents')

async function refresh() {
  showSession()
  const current = session()
  signOutButton.hidden = !current
  if (!current) {
    fill(mine, h('li', { class: 'hint' }, 'Sign in to see your agents.'))
    return
  }
  try {
    const { agents } = await api(`/agents?owner=${current.address}&limit=200`)
    fill(
      mine,
      agents.length
        ? agents.map((agent) =>
            h(
              'li',
              { class: 'card' },
              agentLink(agent.name, agent.id),
              ` · ${agent.status}`,
              agent.chainAgentId ? ` · #${agent.chainAgentId}` : '',
            ),
          )
        : [h('li', { class: 'hint' }, 'No agents yet: launch one below.')],
    )
  } catch (error) {
    fill(mine, h('li', { class: 'error' }, error.message))
  }
}

walletButton.addEventListener('click', () =>
  withProgress(
    {
      button: walletButton,
      status: signinStatus,
      progress: 'Waiting for the wallet’s signature…',
      done: (s) => `Signed in as ${s.address}.`,
    },
    signInWithWallet,
  ).then(refresh),
)
signOutButton.addEventListener('click', async () => {
  await signOut()
  signinStatus.textContent = 'Signed out.'
  refresh()
})

const devForm = document.getElementById('dev-sign-in')
if (devnet && devForm) {
  devAccounts()
    .then((accounts) =>
      fill(
        devForm.elements.namedItem('address'),
        accounts.map((a) => h('option', { value: a.address }, `#${a.index} ${a.address}`)),
      ),
    )
    .catch((error) => {
      signinStatus.textContent = error.message
    })
  devForm.addEventListener('submit', (event) => {
    event.preventDefault()
    const address = String(new FormData(devForm).get('address'))
    withProgress(
      {
        button: devForm.querySelector('button'),
        status: signinStatus,
        progress: 'Signing in…',
        done: (s) => `Signed in as ${s.address}.`,
      },
      () => signInWithDevAccount(address),
    ).then(refresh)
  })
}

/** The launch form as the API's agent JSON: only the fields filled in. */
function definitionOf(form) {
  const text = (name) => String(form.get(name) ?? '').trim()
  const definition = { name: text('name') }
  if (text('description')) definition.description = text('description')
  if (text('instructions')) definition.instructions = text('instructions')
  if (text('provider')) {
    definition.model = { provider: text('provider'), model: text('model') }
    if (text('baseURL')) definition.model.baseURL = text('baseURL')
    if (text('apiKey')) definition.model.apiKey = text('apiKey')
  }
  const policy = {}
  if (text('perJobCap')) policy.perJobCap = text('perJobCap')
  if (text('budget')) policy.budget = { amount: text('budget'), period: 'day' }
  if (Object.keys(policy).length) definition.policy = policy
  if (text('offerings')) {
    try {
      definition.offerings = JSON.parse(text('offerings'))
    } catch {
      throw new Error('The offerings are not valid JSON: give a list of offerings, or leave the field empty.')
    }
  }
  return definition
}

const launchForm = document.getElementById('launch-form')
const launchStatus = document.getElementById('launch-status')
launchForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = new FormData(launchForm)
  const agent = await withProgress(
    {
      button: launchForm.querySelector('button[type=submit]'),
      status: launchStatus,
      progress: 'Launching: minting its identity and deploying its Safe on chain…',
      done: (a) => `Launched ${a.name}${a.chainAgentId ? ` (#${a.chainAgentId})` : ''}.`,
    },
    () => api('/agents', { body: definitionOf(form) }),
  )
  if (agent) {
    launchStatus.append(
      ' ',
      h('a', { href: `/agent/${agent.id}`, id: 'launched-link' }, `Open ${agent.name}’s page`),
    )
    refresh()
  }
})

refresh()
