import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: { testTimeout: 200_000, include: ['src/**/*.test.ts'] },
})
