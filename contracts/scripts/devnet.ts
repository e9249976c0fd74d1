/** Starts the devnet in the foreground and prints its manifest; Ctrl-C stops it (state is kept). */
import { startDevnet } from '../src/devnet.ts'

const statePath = process.argv[2] ?? '.agora/devnet/chain.json'
const devnet = await startDevnet({ statePath, port: Number(process.env.DEVNET_PORT ?? 8545) })
const { manifest } = devnet
console.log(JSON.stringify({ ...manifest, accounts: manifest.accounts.slice(0, 3) }, null, 2))
console.log(`devnet running at ${devnet.rpcUrl} (state: ${statePath}); Ctrl-C to stop`)
const stop = async () => {
  await devnet.stop()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
