#!/usr/bin/env node
// Sums the vitest JSON reports every workspace writes to .vitest/report.json and prints one closing
// line, "N passed, N failed", so a whole `npm test` run reads at a glance (and for CI).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
let passed = 0
let failed = 0
let skipped = 0
for (const workspace of workspaces) {
  const path = join(root, workspace, '.vitest', 'report.json')
  if (!existsSync(path)) continue
  const report = JSON.parse(readFileSync(path, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  console.log(`${workspace}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`)
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
if (failed > 0) process.exitCode = 1
