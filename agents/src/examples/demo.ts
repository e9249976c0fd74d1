/** `npm run demo -w @agora/agents`: the demo economy (see `runDemoEconomy`). */
import { runDemoEconomy } from '../demo-economy.ts'

await runDemoEconomy()
