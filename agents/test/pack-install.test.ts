import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The packages as someone outside this repository gets them: `npm pack` (whose prepack builds
// dist/), one `npm install` of the tarballs into a fresh project, then plain JavaScript on plain node.
const repo = join(import.meta.dirname, '..', '..')
const packed = ['@agora/contracts', '@agora/db', '@agora/runtime', '@agora/agents']
const program = join(import.meta.dirname, 'fixtures', 'pay-between-agents.mjs')
const work = mkdtempSync(join(tmpdir(), 'agora-pack-install-'))

// Without the in-repo "@agora/source" condition (vitest.config.ts puts it in NODE_OPTIONS), so the
// installed packages resolve to their dist/ as they do for everyone else.
const { NODE_OPTIONS: _sourceCondition, ...env } = process.env

// The @agora scope's registry during the install: it answers 404 to everything and notes what was
// asked, so nothing named @agora/* can come from a registry, and quickly (npm prefetches the
// dependencies of a package it has just placed before it sees they are installed from tarballs).
const scopeLookups: string[] = []
const scopeRegistry = createServer((request, response) => {
  scopeLookups.push(decodeURIComponent(request.url ?? ''))
  response.writeHead(404).end()
})

beforeAll(() => new Promise<void>((resolve) => scopeRegistry.listen(0, '127.0.0.1', resolve)))
// The installed project holds a full node_modules: removing it takes a while on a busy machine.
afterAll(async () => {
  scopeRegistry.close()
  await rm(work, { recursive: true, force: true })
}, 120_000)

function say(line: string) {
  process.stdout.write(`pack-install: ${line}\n`)
}

/** Runs a command to completion and resolves with its stdout; rejects with everything it printed. */
function run(command: string, args: string[], cwd: string, timeoutMinutes: number): Promise<string> {
  const name = command === process.execPath ? 'node' : command
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, timeout: timeoutMinutes * 60_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk
    })
    child.once('error', (error) =>
      reject(new Error(`\`${name} ${args.join(' ')}\` could not start: ${error}`)),
    )
    child.once('close', (code, signal) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      if (code === 0) {
        say(`${name} ${args[0]} took ${seconds} s`)
        return resolve(stdout)
      }
      reject(
        new Error(
          `\`${name} ${args.join(' ')}\` in ${cwd} failed after ${seconds} s (exit code ${code}, signal ${signal})\n` +
            `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
        ),
      )
    })
  })
}

describe('packed packages', () => {
  test('default: install from their tarballs and two agents pay each other with plain node', async () => {
    const tarballs = join(work, 'tarballs')
    mkdirSync(tarballs)
    say(`packing ${packed.join(', ')} (prepack builds dist/)...`)
    await run(
      'npm',
      ['pack', ...packed.flatMap((name) => ['-w', name]), '--pack-destination', tarballs],
      repo,
      10,
    )
    const files = readdirSync(tarballs).map((file) => join(tarballs, file))
    expect(files).toHaveLength(packed.length)

    const project = join(work, 'project')
    mkdirSync(project)
    writeFileSync(join(project, 'package.json'), '{ "name": "outside", "private": true, "type": "module" }\n')
    const { dependencies } = JSON.parse(readFileSync(join(repo, 'runtime', 'package.json'), 'utf8'))
    say('installing the tarballs into a fresh project...')
    const { port } = scopeRegistry.address() as AddressInfo
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        `--@agora:registry=http://127.0.0.1:${port}/`,
        ...files,
        `viem@${dependencies.viem}`,
      ],
      project,
      10,
    )
    if (scopeLookups.length > 0)
      say(`npm looked up, and did without: ${scopeLookups.map((url) => url.slice(1)).join(', ')}`)
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string }>
    }
    const installed = Object.entries(lock.packages).filter(([path]) => path.includes('@agora/'))
    expect(
      Object.fromEntries(installed.map(([path, entry]) => [path, entry.resolved?.startsWith('file:')])),
    ).toEqual(Object.fromEntries(packed.map((name) => [`node_modules/${name}`, true])))

    say('running the program with node...')
    copyFileSync(program, join(project, 'program.mjs'))
    const output = await run(process.execPath, ['program.mjs'], project, 5)
    const line = output.split('\n').find((l) => l.startsWith('result: '))
    if (!line) throw new Error(`The program printed no result line:\n${output}`)
    say(line)
    const result = JSON.parse(line.slice('result: '.length)) as {
      status: string
      txHash: string
      payeeBefore: string
      payeeAfter: string
    }
    expect(result.status, output).toBe('confirmed')
    expect(result.txHash, output).toMatch(/^0x[0-9a-f]{64}$/)
    // 1 dUSD (6 decimals) more for the payee.
    expect(BigInt(result.payeeAfter) - BigInt(result.payeeBefore), output).toBe(1_000_000n)
  }, 900_000)
})
