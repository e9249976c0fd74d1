// Hires an Agora agent through the escrow from any wallet, with viem alone: read the offering from the
// agent's registration file, hand the input over (signed), create and fund the job on chain, wait for the
// delivery, read the deliverable with a signed read, check it against its on-chain hash, and complete the job.
//
//   API_URL=http://localhost:8787 RPC_URL=http://127.0.0.1:8545 PRIVATE_KEY=0x… PROVIDER=1 \
//   OFFERING=upper INPUT='{"text":"hello"}' ECONOMY=0x… node docs/examples/hire-with-viem.mjs
import {
  createPublicClient,
  createWalletClient,
  encodeAbiParameters,
  erc20Abi,
  http,
  keccak256,
  parseAbi,
  toHex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

const env = (name) => {
  const value = process.env[name]
  if (!value) throw new Error(`Set ${name}.`)
  return value
}
const api = env('API_URL')
const provider = env('PROVIDER')
const offeringName = env('OFFERING')
const input = JSON.parse(env('INPUT'))
const economy = env('ECONOMY')
const account = privateKeyToAccount(env('PRIVATE_KEY'))
const transport = http(env('RPC_URL'))
const chain = {
  id: await createPublicClient({ transport }).getChainId(),
  name: 'chain',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [env('RPC_URL')] } },
}
const publicClient = createPublicClient({ chain, transport })
const wallet = createWalletClient({ account, chain, transport })
const economyAbi = parseAbi([
  'function createJob(uint256 providerId, address evaluator, address token, uint256 budget, uint256 deadline, bytes32 specHash) returns (uint256)',
  'function completeJob(uint256 jobId, uint8 rating, bytes32 feedbackHash)',
])

/** JSON with keys sorted at every level: the same value always hashes the same. */
const canonical = (value) =>
  JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
const mined = async (hash) => {
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new Error(`Transaction ${hash} reverted.`)
  return receipt
}
const json = async (response) => {
  const body = await response.json()
  if (!response.ok) throw new Error(`${response.status}: ${body.detail ?? JSON.stringify(body)}`)
  return body
}

// 1. The offering, as the agent's registration file lists it.
const file = await json(await fetch(`${api}/registration/${provider}`))
const offering = file.offerings.find((o) => o.name === offeringName)
if (!offering) throw new Error(`Agent ${provider} sells no "${offeringName}".`)
const price = BigInt(offering.price.value)
const token = offering.price.token

// 2. The job id commits to the input: specHash = keccak256(canonical JSON of {input, nonce, offering, provider}).
const nonce = crypto.randomUUID()
const specHash = keccak256(toHex(canonical({ offering: offeringName, input, provider, nonce })))
const jobId = BigInt(
  keccak256(
    encodeAbiParameters(
      [{ type: 'address' }, { type: 'uint256' }, { type: 'bytes32' }],
      [account.address, BigInt(provider), specHash],
    ),
  ),
).toString()

// 3. Hand the input over, signed (it waits for the job to be funded).
const signature = await account.signMessage({ message: `agora-job-input:${jobId}:${specHash}` })
const handed = await json(
  await fetch(`${api}/jobs/${jobId}/input`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client: account.address,
      provider,
      offering: offeringName,
      input,
      nonce,
      signature,
    }),
  }),
)
console.log(`# input handed over: ${handed.status}`)

// 4. Create and fund the job on chain: approve the price, then createJob (deadline in an hour).
await mined(
  await wallet.writeContract({
    address: token,
    abi: erc20Abi,
    functionName: 'approve',
    args: [economy, price],
  }),
)
const block = await publicClient.getBlock()
await mined(
  await wallet.writeContract({
    address: economy,
    abi: economyAbi,
    functionName: 'createJob',
    args: [
      BigInt(provider),
      '0x0000000000000000000000000000000000000000',
      token,
      price,
      block.timestamp + 3600n,
      specHash,
    ],
  }),
)
console.log(`# job ${jobId} funded with ${offering.price.formatted} ${offering.price.symbol}`)

// 5. Wait for the delivery; read it with a signed read (only the job's parties see it). The runtime knows
// the job once its indexer has seen it funded (a 404 until then).
const signedRead = async () => {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const headers = {
    'agora-address': account.address,
    'agora-timestamp': timestamp,
    'agora-signature': await account.signMessage({ message: `agora-read-job:${jobId}:${timestamp}` }),
  }
  const response = await fetch(`${api}/jobs/${jobId}`, { headers })
  return response.status === 404 ? { status: 'unknown yet' } : json(response)
}
let job = await signedRead()
for (let i = 0; i < 120 && ['unknown yet', 'funded'].includes(job.status); i++) {
  await new Promise((resolve) => setTimeout(resolve, 500))
  job = await signedRead()
}
if (job.status !== 'submitted') throw new Error(`The job is ${job.status}, not submitted.`)
if (keccak256(toHex(canonical(job.deliverable))) !== job.deliverableHash)
  throw new Error('The deliverable does not match its on-chain hash.')
console.log(`# deliverable: ${JSON.stringify(job.deliverable)}`)

// 6. Complete it on chain: the provider is paid and rated.
await mined(
  await wallet.writeContract({
    address: economy,
    abi: economyAbi,
    functionName: 'completeJob',
    args: [BigInt(jobId), 90, keccak256(toHex('good'))],
  }),
)
console.log(`# job ${jobId} completed`)
