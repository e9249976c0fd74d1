import type { ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'

export type ChildOutput = { code: number | null; stdout: string; stderr: string }

/** Collects a spawned process's stdout and stderr; resolves with them and its exit code when it exits. */
export function outputOf(child: ChildProcessByStdio<null, Readable, Readable>): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}
