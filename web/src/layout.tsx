/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx'

export type LayoutProps = {
  title: string
  /** The page's client module under `/assets/js/` (without `.js`). */
  script: string
  /** Which navigation entry is the current page. */
  current: 'economy' | 'market' | 'console' | 'agent' | 'job'
  /** Whether the API runs on the embedded devnet (development accounts and the faucet exist). */
  devnet: boolean
  children?: Child
}

const links = [
  ['economy', '/', 'Economy'],
  ['market', '/market', 'Market'],
  ['console', '/console', 'Console'],
] as const

/** The frame of every page: head, navigation with the session, the page's content and its module. */
export function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Agora`}</title>
        <link rel="stylesheet" href="/assets/vendor/uPlot.min.css" />
        <link rel="stylesheet" href="/assets/dashboard.css" />
        <script type="module" src={`/assets/js/${props.script}.js`} />
      </head>
      <body data-devnet={String(props.devnet)}>
        <a class="skip" href="#main">
          Skip to the content
        </a>
        <header class="top">
          <a class="brand" href="/">
            Agora
          </a>
          <nav aria-label="Dashboard">
            <ul>
              {links.map(([key, href, label]) => (
                <li>
                  <a href={href} aria-current={props.current === key ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
              <li>
                <a href="/docs">API</a>
              </li>
            </ul>
          </nav>
          <p id="session" class="session" aria-live="polite">
            Not signed in
          </p>
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
      </body>
    </html>
  )
}

/** A region that shows an action's progress and its outcome (an API error as its sentence). */
export function Status(props: { id: string }) {
  return <p id={props.id} class="status" role="status" aria-live="polite" />
}
