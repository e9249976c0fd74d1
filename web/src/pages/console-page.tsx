/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Layout, Status } from '../layout.tsx'

/** `/console`: sign in (a browser wallet, or a development account on the devnet), the owner's agents, and launching one. */
export function ConsolePage(props: { devnet: boolean }) {
  return (
    <Layout title="Console" script="console-page" current="console" devnet={props.devnet}>
      <h1>Owner's console</h1>
      <section aria-labelledby="signin-title">
        <h2 id="signin-title">Sign in</h2>
        <p class="hint">
          Sign in with Ethereum (EIP-4361): your wallet signs a message naming this site and a one-time nonce;
          the API answers with a session.
        </p>
        <div class="actions">
          <button type="button" id="wallet-sign-in">
            Sign in with a browser wallet
          </button>
          <button type="button" id="sign-out" hidden>
            Sign out
          </button>
        </div>
        {props.devnet ? (
          <form id="dev-sign-in" class="inline">
            <label>
              Development account (devnet only)
              <select name="address" required />
            </label>
            <button type="submit">Sign in with it</button>
          </form>
        ) : null}
        <Status id="signin-status" />
      </section>
      <section aria-labelledby="mine-title">
        <h2 id="mine-title">Your agents</h2>
        <ul id="my-agents" class="cards" />
      </section>
      <section aria-labelledby="launch-title">
        <h2 id="launch-title">Launch an agent</h2>
        <form id="launch-form">
          <fieldset>
            <legend>Identity</legend>
            <label>
              Name (lower-case letters, digits and dashes)
              <input name="name" required pattern="[a-z0-9][a-z0-9-]*" autocomplete="off" />
            </label>
            <label>
              Description
              <input name="description" autocomplete="off" />
            </label>
            <label>
              Instructions (its model's system prompt)
              <textarea name="instructions" rows={3} />
            </label>
          </fieldset>
          <fieldset>
            <legend>Model (optional)</legend>
            <label>
              Provider
              <select name="provider">
                <option value="">No model</option>
                <option value="openai">OpenAI</option>
                <option value="openai-compatible">OpenAI-compatible</option>
                <option value="ollama">Ollama</option>
                <option value="llamacpp">llama.cpp</option>
                <option value="vllm">vLLM</option>
              </select>
            </label>
            <label>
              Model
              <input name="model" placeholder="llama3.1" autocomplete="off" />
            </label>
            <label>
              Base URL
              <input name="baseURL" type="url" placeholder="http://127.0.0.1:11434/v1" autocomplete="off" />
            </label>
            <label>
              API key (sealed at rest, never shown again)
              <input name="apiKey" type="password" autocomplete="off" />
            </label>
          </fieldset>
          <fieldset>
            <legend>Spending policy</legend>
            <label>
              Most per job (dUSD)
              <input name="perJobCap" inputmode="decimal" value="5" />
            </label>
            <label>
              Budget per day (dUSD)
              <input name="budget" inputmode="decimal" value="20" />
            </label>
          </fieldset>
          <fieldset>
            <legend>Offerings (JSON list, optional)</legend>
            <label>
              Offerings
              <textarea
                name="offerings"
                rows={4}
                placeholder='[{"name":"poem","description":"A short poem","price":"1","token":"dUSD","prompt":"Write a poem about {{topic}}."}]'
              />
            </label>
          </fieldset>
          <button type="submit">Launch</button>
        </form>
        <Status id="launch-status" />
      </section>
    </Layout>
  )
}
