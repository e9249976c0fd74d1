/**
 * Deploys Agora's contracts to an EVM chain and writes the deployment manifest the API reads
 * (`DEPLOYMENT_MANIFEST`). Run from the repository root:
 *
 *   AGORA_DEPLOYER_KEY=0x… npm run deploy -- --rpc-url https://sepolia.base.org \
 *     --out base-sepolia.json --token USDC=0x036CbD53842c5426634e7929541eC2318f3dCF7e
 *
 * The key comes from AGORA_DEPLOYER_KEY or, on a terminal, a prompt that does not echo it; never
 * from the command line, where it would stay in the shell's history and the process list. Progress is
 * kept in `<out>.progress`: the same command run again resumes an interrupted deployment.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { Address, Hex } from 'viem'
import { DeployError, deployAgora, writeJsonAtomic } from '../src/deploy.ts'

const usage = `Usage: npm run deploy -- --rpc-url <url> [--out manifest.json] [--token SYMBOL=0xaddress ...]
       [--chain-id <id>] [--fee-bps <n>] [--submission-grace-seconds <n>]

The deployer key is read from AGORA_DEPLOYER_KEY, or asked for when run on a terminal.`

/** Exits with status 2 and the usage: the command line or the environment is wrong. */
function refuse(message: string): never {
  process.stderr.write(`deploy: ${message}\n\n${usage}\n`)
  process.exit(2)
}

function parseCommandLine() {
  const secretFlag = process.argv
    .slice(2)
    .find((a) => /^--(private-?key|key|deployer-key|mnemonic)\b/.test(a))
  if (secretFlag)
    refuse(
      `${secretFlag.split('=')[0]} is not accepted: a key on the command line stays in the shell's history and ` +
        'the process list. Set AGORA_DEPLOYER_KEY, or run on a terminal to be asked for it.',
    )
  let values: ReturnType<typeof parse>['values']
  function parse() {
    return parseArgs({
      options: {
        'rpc-url': { type: 'string' },
        out: { type: 'string', default: 'deployment.json' },
        token: { type: 'string', multiple: true, default: [] },
        'chain-id': { type: 'string' },
        'fee-bps': { type: 'string' },
        'submission-grace-seconds': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    })
  }
  try {
    values = parse().values
  } catch (error) {
    refuse((error as Error).message)
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`)
    process.exit(0)
  }
  if (!values['rpc-url']) refuse('--rpc-url is required')
  const whole = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined
    if (!/^\d{1,15}$/.test(value)) refuse(`${flag} must be a whole number, not "${value}"`)
    return Number(value)
  }
  const tokens = values.token!.map((entry) => {
    const match = /^([^=]+)=(.*)$/.exec(entry)
    if (!match)
      refuse(
        `--token must be SYMBOL=0xaddress, e.g. USDC=0x036CbD53842c5426634e7929541eC2318f3dCF7e, not "${entry}"`,
      )
    return { symbol: match[1]!.trim(), address: match[2]!.trim() as Address }
  })
  // npm runs workspace scripts in the workspace's folder: paths are meant from where npm was run.
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.out!)
  return {
    rpcUrl: values['rpc-url'],
    out,
    tokens,
    chainId: whole('--chain-id', values['chain-id']),
    feeBps: whole('--fee-bps', values['fee-bps']),
    submissionGraceSeconds: whole('--submission-grace-seconds', values['submission-grace-seconds']),
  }
}

/** Asks for the key on the terminal without echoing what is typed. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolveAnswer) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    // readline echoes through this method; only the question itself is let through.
    const echo = rl as unknown as { _writeToOutput(text: string): void }
    echo._writeToOutput = (text: string) => {
      if (text.includes(question)) process.stderr.write(question)
    }
    rl.question(question, (answer) => {
      rl.close()
      process.stderr.write('\n')
      resolveAnswer(answer.trim())
    })
  })
}

async function deployerKey(): Promise<Hex> {
  let key = process.env.AGORA_DEPLOYER_KEY?.trim()
  if (!key && process.stdin.isTTY) key = await askHidden('Deployer private key (0x…, not shown): ')
  if (!key)
    refuse('no deployer key: set AGORA_DEPLOYER_KEY to the 0x-prefixed private key of a funded account')
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key))
    refuse('the deployer key must be a 32-byte hex private key (64 hex characters, 0x-prefixed)')
  return (key.startsWith('0x') ? key : `0x${key}`) as Hex
}

const options = parseCommandLine()
const progressPath = `${options.out}.progress`
if (existsSync(options.out) && !existsSync(progressPath))
  refuse(
    `${options.out} exists and no deployment is in progress beside it (${progressPath}); ` +
      'pass another --out, or move the file away, so a finished manifest is not overwritten',
  )
const privateKey = await deployerKey()
try {
  const { manifest } = await deployAgora({ ...options, privateKey, progressPath })
  writeJsonAtomic(options.out, manifest)
  process.stderr.write(`deploy: manifest written to ${options.out} (progress kept in ${progressPath})\n`)
} catch (error) {
  if (error instanceof DeployError) {
    process.stderr.write(`deploy: ${error.message}\n`)
    process.exit(error.code === 'INVALID_INPUT' ? 2 : 1)
  }
  throw error
}
