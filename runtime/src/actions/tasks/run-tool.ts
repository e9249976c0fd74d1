import { type Job, NotFoundError, ValidationError } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import type { PaymentView } from '../../views/payment-view.ts'
import { getBalances } from '../agents/get-balances.ts'
import { getJob } from '../jobs/get-job.ts'
import { hire } from '../jobs/hire.ts'
import { waitForJob } from '../jobs/wait-for-job.ts'
import { searchMarket } from '../market/search-market.ts'
import { pay } from '../payments/pay.ts'
import { payX402 } from '../payments/pay-x402.ts'
import type { AgentToolName } from './agent-tools.ts'

type ToolArguments = {
  search_market: { text?: string; capability?: string; maxPrice?: string; minRating?: number }
  hire: { providerId: string; offering: string; input: unknown; maxPrice: string }
  pay: { to: string; amount: string; memo?: string }
  buy_x402: {
    url: string
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
    body?: unknown
    maxAmount: string
  }
  job_status: { jobId: string }
  balance: Record<string, never>
  finish: { answer: string }
}

/** Told of money a tool moves as soon as it is recorded (a hire well before its delivery). */
export type ToolProgress = {
  hired?(job: Job): Promise<void>
  paid?(payment: PaymentView): Promise<void>
}

/** A market listing as the model reads it when the offering publishes no input schema. */
const anyObject = { type: 'object' } as const

/**
 * Runs one of the agent tools for the agent: the same actions code calls, with their guardrails.
 * The arguments were validated against the tool's schema already. Amounts are read back as token
 * units; market listings carry each offering's input JSON Schema, so the model hires with the
 * fields the provider expects.
 */
export async function runTool(
  client: RuntimeClient,
  agentId: string,
  call: { name: string; args: unknown },
  progress: ToolProgress = {},
): Promise<unknown> {
  const name = call.name as AgentToolName
  switch (name) {
    case 'search_market': {
      const query = call.args as ToolArguments['search_market']
      const { offerings } = await searchMarket(client, {
        ...query,
        token: query.maxPrice ? client.tokens.defaultToken?.address : undefined,
      })
      return offerings.map((m) => ({
        providerId: m.agent.chainAgentId,
        agent: m.agent.name,
        offering: m.offering.name,
        description: m.offering.description,
        price: m.offering.price.formatted,
        token: m.offering.price.symbol,
        input: m.offering.inputSchema ?? anyObject,
        capabilities: m.offering.capabilities,
        rating: m.reputation?.averageRating ?? null,
        completedJobs: m.reputation?.completed ?? 0,
      }))
    }
    case 'hire': {
      const a = call.args as ToolArguments['hire']
      const hired = await hire(client, agentId, {
        provider: a.providerId,
        offering: a.offering,
        input: a.input,
        maxPrice: a.maxPrice,
      })
      await progress.hired?.(hired)
      const job = await waitForJob(client, hired.jobId)
      return { jobId: job.jobId, status: job.status, deliverable: job.deliverable, rating: job.rating }
    }
    case 'pay': {
      const payment = await pay(client, agentId, call.args as ToolArguments['pay'])
      await progress.paid?.(payment)
      return { paymentId: payment.id, status: payment.status, txHash: payment.txHash }
    }
    case 'buy_x402': {
      const { body, ...args } = call.args as ToolArguments['buy_x402']
      // A model may write `null` for "no body".
      const bought = await payX402(client, agentId, { ...args, body: body ?? undefined })
      if (bought.payment) await progress.paid?.(bought.payment)
      return {
        status: bought.status,
        body: forModel(bought.body),
        paid: bought.payment && {
          paymentId: bought.payment.id,
          status: bought.payment.status,
          amount: bought.payment.amount.formatted,
          token: bought.payment.amount.symbol,
          txHash: bought.payment.txHash,
        },
        note: bought.note,
      }
    }
    case 'job_status': {
      const { jobId } = call.args as ToolArguments['job_status']
      const job = await getJob(client, jobId).catch(() => undefined)
      if (!job || (job.client.agentId !== agentId && job.provider.agentId !== agentId))
        throw new NotFoundError(`Job ${jobId} is not one of yours.`)
      return {
        jobId,
        status: job.status,
        offering: job.offering,
        deliverable: job.deliverable,
        rating: job.rating,
      }
    }
    case 'balance': {
      const balances = await getBalances(client, agentId)
      return Object.fromEntries(balances.map((b) => [b.symbol, b.formatted]))
    }
    default:
      throw new ValidationError(`There is no tool "${call.name}".`)
  }
}

/** The most of a bought resource's answer the model reads, in characters of its JSON. */
const maxBodyForModel = 20_000

/** A resource's answer as the model reads it: cut short (as text) when it is long. */
function forModel(body: unknown): unknown {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? null)
  if (text.length <= maxBodyForModel) return body
  return `${text.slice(0, maxBodyForModel)}… (${text.length - maxBodyForModel} more characters not shown)`
}
