/** `/market`: searches offerings (`GET /market/offerings`) with the form's filters, from the URL too. */
import { api } from './api.js'
import { agentLink, fill, h, money } from './dom.js'
import { showSession } from './session.js'

showSession()
const form = document.getElementById('search')
const status = document.getElementById('market-status')
const body = document.querySelector('#offerings tbody')

/** The form's filled fields as a query string. */
function queryOf() {
  const query = new URLSearchParams()
  for (const [name, value] of new FormData(form))
    if (String(value).trim()) query.set(name, String(value).trim())
  return query
}

async function search() {
  const query = queryOf()
  status.classList.remove('error')
  status.textContent = 'Searching…'
  try {
    const { offerings } = await api(`/market/offerings?${query}&limit=100`)
    fill(
      body,
      offerings.map(({ agent, offering, reputation }) =>
        h(
          'tr',
          {},
          h('td', {}, h('strong', {}, offering.name), h('br'), h('small', {}, offering.description)),
          h('td', {}, agentLink(`${agent.name} #${agent.chainAgentId}`, agent.id ?? agent.chainAgentId)),
          h('td', {}, offering.capabilities.join(', ') || '—'),
          h('td', {}, money(offering.price)),
          h('td', {}, reputation ? String(reputation.averageRating) : '—'),
          h('td', {}, reputation ? String(reputation.completed) : '—'),
        ),
      ),
    )
    status.textContent = `${offerings.length} offering${offerings.length === 1 ? '' : 's'} found.`
    history.replaceState(null, '', `/market?${query}`)
  } catch (error) {
    status.classList.add('error')
    status.textContent = error.message
  }
}

// The URL's filters fill the form, so a search can be linked to.
for (const [name, value] of new URLSearchParams(location.search)) {
  const field = form.elements.namedItem(name)
  if (field) field.value = value
}
form.addEventListener('submit', (event) => {
  event.preventDefault()
  search()
})
search()
