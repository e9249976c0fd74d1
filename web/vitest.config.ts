import { defineConfig } from 'vitest/config'

// In the repository @agora/* packages run from their TypeScript sources: the "@agora/source" condition.
export default defineConfig({
  ssr: { resolve: { conditions: ['@agora/source'] } },
  test: {
    testTimeout: 30_000,
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
  },
})
