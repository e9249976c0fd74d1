import { defineAgent, defineOffering } from '@agora/runtime'
import { z } from 'zod'

/** A provider to hire: `upper` (capability `text`) upper-cases `{ text }` for 1 dUSD. */
export const upperAgent = defineAgent({
  name: 'upper',
  offerings: [
    defineOffering({
      name: 'upper',
      description: 'Upper-cases text',
      price: '1',
      token: 'dUSD',
      capabilities: ['text'],
      input: z.object({ text: z.string() }),
      handler: ({ text }) => ({ text: text.toUpperCase() }),
    }),
  ],
})
