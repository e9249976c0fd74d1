/** Small helpers to build the pages' DOM and format the API's values. */

/** An element: `h('a', { href }, 'text', child)`; attributes set as properties when they are ones. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (name === 'class') element.className = value
    else if (name === 'dataset') Object.assign(element.dataset, value)
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value)
    else element.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue
    element.append(child instanceof Node ? child : String(child))
  }
  return element
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren()
  for (const child of children.flat()) if (child) element.append(child)
  return element
}

/** A Money object as people read it: `2.5 dUSD`. */
export function money(value) {
  if (!value) return '—'
  return `${value.formatted} ${value.symbol}`
}

/** `0x1234…abcd`. */
export function short(address) {
  if (!address) return '—'
  return address.length > 14 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address
}

/** A time as the reader's clock shows it. */
export function time(iso) {
  return iso ? new Date(iso).toLocaleString() : '—'
}

/** A definition list's rows: `[['Term', value], …]`. */
export function facts(list, rows) {
  fill(
    list,
    rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value ?? '—')]),
  )
}

/** A link to an agent's page (by runtime id, else on-chain id). */
export function agentLink(label, id) {
  return id ? h('a', { href: `/agent/${encodeURIComponent(id)}` }, label) : label
}

/** A link to a job's page. */
export function jobLink(jobId) {
  return h('a', { href: `/job/${encodeURIComponent(jobId)}` }, `#${short(jobId)}`)
}

/** Pages through a list route to its end (or `max` items): `items` names the list in each page. */
export async function allPages(fetchPage, items, max = 1_000) {
  const all = []
  let cursor
  do {
    const page = await fetchPage(cursor)
    all.push(...page[items])
    cursor = page.next ?? undefined
  } while (cursor && all.length < max)
  return all
}
