/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Layout } from '../layout.tsx'

/** `/job/:jobId`: the escrow's life with each transaction; input and deliverable for its parties. */
export function JobPage(props: { devnet: boolean; jobId: string }) {
  return (
    <Layout title={`Job ${props.jobId}`} script="job-page" current="job" devnet={props.devnet}>
      <h1>
        Job <span id="job-id">{props.jobId}</span>
      </h1>
      <p id="job-status" class="status" role="status" aria-live="polite" />
      <section aria-labelledby="facts-title">
        <h2 id="facts-title">Terms</h2>
        <dl id="job-facts" class="facts" />
      </section>
      <section aria-labelledby="life-title">
        <h2 id="life-title">Life of the escrow</h2>
        <ol id="job-life" class="timeline" aria-live="polite" />
      </section>
      <section aria-labelledby="work-title">
        <h2 id="work-title">Input and deliverable</h2>
        <div id="job-work" />
      </section>
    </Layout>
  )
}
