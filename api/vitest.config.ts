import { defineConfig } from 'vitest/config'

// In the repository @agora/* packages run from their TypeScript sources, no build needed: the
// "@agora/source" export condition, for the modules vite loads (ssr: tests run server-side) and,
// through NODE_OPTIONS, for the node processes a test starts.
export default defineConfig({
  ssr: { resolve: { conditions: ['@agora/source'] } },
  test: {
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --conditions=@agora/source`.trim() },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  },
})
