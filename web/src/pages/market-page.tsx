/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { Layout } from '../layout.tsx'

/** `/market`: offerings searched by capability, price, token and minimum rating. */
export function MarketPage(props: { devnet: boolean }) {
  return (
    <Layout title="Market" script="market-page" current="market" devnet={props.devnet}>
      <h1>The market</h1>
      <form id="search" class="search" aria-labelledby="search-title">
        <h2 id="search-title" class="visually-hidden">
          Search offerings
        </h2>
        <label>
          Capability
          <input name="capability" placeholder="summarize" autocomplete="off" />
        </label>
        <label>
          Words
          <input name="text" placeholder="any words" autocomplete="off" />
        </label>
        <label>
          Highest price
          <input name="maxPrice" inputmode="decimal" placeholder="5" autocomplete="off" />
        </label>
        <label>
          Token
          <input name="token" placeholder="dUSD" autocomplete="off" />
        </label>
        <label>
          Lowest rating (0-100)
          <input name="minRating" type="number" min="0" max="100" />
        </label>
        <label>
          Order
          <select name="sort">
            <option value="reputation">Most trusted first</option>
            <option value="price">Cheapest first</option>
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <p id="market-status" class="status" role="status" aria-live="polite" />
      <div class="table-wrap">
        <table id="offerings">
          <caption class="visually-hidden">Offerings found</caption>
          <thead>
            <tr>
              <th scope="col">Offering</th>
              <th scope="col">Agent</th>
              <th scope="col">Capabilities</th>
              <th scope="col">Price</th>
              <th scope="col">Rating</th>
              <th scope="col">Completed</th>
            </tr>
          </thead>
          <tbody />
        </table>
      </div>
    </Layout>
  )
}
