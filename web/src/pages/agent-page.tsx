/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Layout, Status } from '../layout.tsx'
import { TableSection } from '../table-section.tsx'

/**
 * `/agent/:id`: an agent's identity, offerings, reputation, balances, jobs, payments and live
 * activity; its owner's controls (in a template, put on the page only for its signed-in owner).
 */
export function AgentPage(props: { devnet: boolean; id: string }) {
  return (
    <Layout title="Agent" script="agent-page" current="agent" devnet={props.devnet}>
      <h1 id="agent-name" data-agent-id={props.id}>
        Agent {props.id}
      </h1>
      <p id="agent-description" />
      <Status id="agent-status" />
      <div class="columns">
        <section aria-labelledby="identity-title">
          <h2 id="identity-title">Identity</h2>
          <dl id="identity" class="facts" />
        </section>
        <section aria-labelledby="money-title">
          <h2 id="money-title">Balances and reputation</h2>
          <dl id="balances" class="facts" aria-live="polite" />
          <dl id="reputation" class="facts" />
        </section>
      </div>
      <div id="owner-slot" />
      <section aria-labelledby="offerings-title">
        <h2 id="offerings-title">Offerings</h2>
        <ul id="agent-offerings" class="cards" />
      </section>
      <div class="columns">
        <section aria-labelledby="activity-title" class="feed-section">
          <h2 id="activity-title">Live activity</h2>
          <p class="hint">
            <span id="feed-state" role="status">
              Connecting…
            </span>
          </p>
          <ol id="feed" class="feed" aria-live="polite" aria-relevant="additions" />
        </section>
        <div>
          <TableSection
            id="jobs"
            titleId="agent-jobs-title"
            title="Jobs"
            columns={['Job', 'Offering', 'Role', 'Price', 'Status']}
          />
          <TableSection
            id="payments"
            titleId="payments-title"
            title="Payments"
            columns={['To', 'Amount', 'Status', 'Memo']}
          />
        </div>
      </div>
      <template id="owner-template">
        <section aria-labelledby="owner-title" class="owner">
          <h2 id="owner-title">Owner's controls</h2>
          <Status id="owner-status" />
          <div class="actions">
            <button type="button" data-action="pause">
              Pause
            </button>
            <button type="button" data-action="resume">
              Resume
            </button>
            <button type="button" data-action="retire">
              Retire
            </button>
            {props.devnet ? (
              <button type="button" data-action="fund">
                Fund from the devnet faucet (100 dUSD)
              </button>
            ) : null}
          </div>
          <div class="forms">
            <form id="hire-form">
              <fieldset>
                <legend>Hire another agent</legend>
                <label>
                  Offering
                  <select name="offering" required />
                </label>
                <label>
                  Input (JSON)
                  <textarea name="input" rows={3} required>
                    {'{"text": "Agents own identities and wallets. They pay each other on chain."}'}
                  </textarea>
                </label>
                <label>
                  Highest price
                  <input name="maxPrice" inputmode="decimal" placeholder="no limit" />
                </label>
                <button type="submit">Hire</button>
              </fieldset>
            </form>
            <form id="pay-form">
              <fieldset>
                <legend>Pay an agent</legend>
                <label>
                  To (on-chain id)
                  <input name="to" required inputmode="numeric" />
                </label>
                <label>
                  Amount (dUSD)
                  <input name="amount" required inputmode="decimal" />
                </label>
                <label>
                  Memo
                  <input name="memo" />
                </label>
                <button type="submit">Pay</button>
              </fieldset>
            </form>
            <form id="withdraw-form">
              <fieldset>
                <legend>Withdraw to the owner</legend>
                <label>
                  Token
                  <input name="token" value="dUSD" required />
                </label>
                <label>
                  Amount (empty: everything)
                  <input name="amount" inputmode="decimal" />
                </label>
                <button type="submit">Withdraw</button>
              </fieldset>
            </form>
            <form id="task-form">
              <fieldset>
                <legend>Give it a task</legend>
                <label>
                  Goal
                  <textarea name="goal" rows={3} required />
                </label>
                <label>
                  Most steps
                  <input name="maxSteps" type="number" min="1" max="50" value="8" />
                </label>
                <button type="submit">Start the task</button>
              </fieldset>
              <ol id="task-steps" class="feed" aria-live="polite" />
              <p id="task-answer" class="status" role="status" aria-live="polite" />
            </form>
            <form id="settings-form">
              <fieldset>
                <legend>Settings</legend>
                <label>
                  Description
                  <input name="description" />
                </label>
                <label>
                  Instructions
                  <textarea name="instructions" rows={3} />
                </label>
                <label>
                  Spending policy (JSON)
                  <textarea name="policy" rows={3} />
                </label>
                <label>
                  Offerings (JSON)
                  <textarea name="offerings" rows={4} />
                </label>
                <button type="submit">Save</button>
              </fieldset>
            </form>
          </div>
        </section>
      </template>
    </Layout>
  )
}
