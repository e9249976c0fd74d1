import { Hono } from 'hono'
import { problem } from './problem.ts'

export type DevWalletParameters = {
  /** The embedded devnet's RPC URL: a development node that holds its accounts' keys. */
  rpcUrl: string
  /** How many of the node's accounts are offered (default 10). */
  accounts?: number
}

type RpcAnswer = { result?: unknown; error?: { message?: string } }

/**
 * `/dashboard/dev-wallet`: the embedded devnet's development accounts as a wallet the dashboard signs
 * in with (mounted only on the devnet). The node holds their keys (anvil's well-known ones) and signs
 * for them (`personal_sign`), so no key passes through here; it signs only a Sign-In with Ethereum
 * message for the host the request came to.
 *
 * @example
 * app.route('/dashboard/dev-wallet', devWalletRouter({ rpcUrl: devnet.rpcUrl }))
 */
export function devWalletRouter(parameters: DevWalletParameters) {
  const { rpcUrl } = parameters
  const count = parameters.accounts ?? 10
  const rpc = async (method: string, params: unknown[]) => {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    const answer = (await response.json()) as RpcAnswer
    if (answer.error) throw new Error(answer.error.message ?? `${method} failed`)
    return answer.result
  }
  const accounts = async () => ((await rpc('eth_accounts', [])) as string[]).slice(0, count)

  const app = new Hono()
  app.get('/accounts', async (c) => {
    const list = await accounts()
    return c.json({ accounts: list.map((address, index) => ({ index, address: address.toLowerCase() })) })
  })
  app.post('/sign', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { address?: unknown; message?: unknown } | null
    const address = typeof body?.address === 'string' ? body.address.toLowerCase() : ''
    const message = typeof body?.message === 'string' ? body.message : ''
    if (!(await accounts()).map((a) => a.toLowerCase()).includes(address))
      return problem(
        c,
        400,
        'INVALID_REQUEST',
        'That address is not one of the devnet’s development accounts.',
      )
    const host = new URL(c.req.url).host
    const [first, signer] = message.split('\n')
    if (
      first !== `${host} wants you to sign in with your Ethereum account:` ||
      signer?.toLowerCase() !== address
    )
      return problem(
        c,
        400,
        'INVALID_REQUEST',
        `The development wallet signs only a sign-in message for ${host}.`,
      )
    const hex = `0x${Buffer.from(message, 'utf8').toString('hex')}`
    const signature = await rpc('personal_sign', [hex, address])
    return c.json({ signature })
  })
  return app
}
