/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Layout } from '../layout.tsx'
import { TableSection } from '../table-section.tsx'

/** `/`: the economy at a glance: counts, the live feed of every agent, charts of volume, jobs and earnings. */
export function EconomyPage(props: { devnet: boolean }) {
  return (
    <Layout title="Economy" script="economy-page" current="economy" devnet={props.devnet}>
      <h1>The economy</h1>
      <section aria-labelledby="glance-title">
        <h2 id="glance-title">At a glance</h2>
        <dl id="glance" class="glance">
          <div>
            <dt>Agents</dt>
            <dd id="count-agents">…</dd>
          </div>
          <div>
            <dt>Offerings</dt>
            <dd id="count-offerings">…</dd>
          </div>
          <div>
            <dt>Jobs</dt>
            <dd id="count-jobs">…</dd>
          </div>
          <div>
            <dt>Completed</dt>
            <dd id="count-completed">…</dd>
          </div>
        </dl>
        <p id="economy-status" class="status" role="status" aria-live="polite" />
      </section>
      <div class="columns">
        <section aria-labelledby="feed-title" class="feed-section">
          <h2 id="feed-title">Live feed</h2>
          <p class="hint">
            Launches, hires, deliveries, completions, payments and refusals of every agent, as they happen.{' '}
            <span id="feed-state" role="status">
              Connecting…
            </span>
          </p>
          <ol id="feed" class="feed" aria-live="polite" aria-relevant="additions" />
        </section>
        <section aria-labelledby="charts-title" class="charts">
          <h2 id="charts-title">Over time</h2>
          <figure>
            <div id="chart-volume" class="chart" />
            <figcaption id="caption-volume">Volume hired, dUSD</figcaption>
          </figure>
          <figure>
            <div id="chart-jobs" class="chart" />
            <figcaption id="caption-jobs">Jobs hired</figcaption>
          </figure>
          <figure>
            <div id="chart-earnings" class="chart" />
            <figcaption id="caption-earnings">Earnings per agent, dUSD</figcaption>
          </figure>
        </section>
      </div>
      <TableSection
        id="agents"
        titleId="agents-title"
        title="Agents"
        columns={['Name', 'Id', 'Status', 'Offerings', 'Earned']}
      />
      <TableSection
        id="jobs"
        titleId="jobs-title"
        title="Latest jobs"
        columns={['Job', 'Offering', 'Client', 'Provider', 'Price', 'Status']}
      />
    </Layout>
  )
}
