/**
 * `npm start`: runs Agora on embedded defaults. For now it starts the devnet (anvil with Safe 1.4.1,
 * ERC-6551 and Agora's contracts), keeps its state under the data directory, and prints what it
 * deployed. Ctrl-C stops it; the next start resumes the same chain.
 */
import { join } from 'node:path'
import { startDevnet } from '@agora/contracts'

const dataDir = process.env.AGORA_DATA_DIR ?? join(process.env.INIT_CWD ?? process.cwd(), '.agora')
const port = process.env.DEVNET_PORT ? Number(process.env.DEVNET_PORT) : undefined
if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65_536)) {
  console.error(`DEVNET_PORT must be a TCP port (1-65535), got "${process.env.DEVNET_PORT}"`)
  process.exit(2)
}

const devnet = await startDevnet({ statePath: join(dataDir, 'devnet', 'chain.json'), port })
const { manifest } = devnet
const rows: [string, string][] = [
  ['RPC URL', devnet.rpcUrl],
  ['chain id', String(manifest.chainId)],
  ['identity registry', manifest.contracts.identityRegistry],
  ['agent factory', manifest.contracts.factory],
  ['agent economy', manifest.contracts.economy],
  ['ERC-6551 registry', manifest.contracts.erc6551Registry],
  ['ERC-6551 account', manifest.contracts.agentAccount],
  ['dev stablecoin (dUSD)', manifest.contracts.devUSD],
  ['Safe 1.4.1 singleton', manifest.safe.safeSingleton],
  ['Safe proxy factory', manifest.safe.safeProxyFactory],
  ['dev account #1', `${manifest.accounts[1]!.address} (key ${manifest.accounts[1]!.privateKey})`],
]
console.log(`\nAgora devnet ${devnet.resumed ? 'resumed' : 'deployed'} (data in ${dataDir})`)
for (const [name, value] of rows) console.log(`  ${name.padEnd(22)} ${value}`)
console.log('\nCtrl-C stops the chain; its state is kept for the next start.')

const stop = async () => {
  await devnet.stop()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
