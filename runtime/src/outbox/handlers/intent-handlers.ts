import type { IntentKind } from '@agora/db'
import type { IntentHandler } from '../intent-handler.ts'
import { jobStepHandler } from './job-step.ts'
import { launchHandler } from './launch.ts'
import { ownerTransactionHandler } from './owner-transaction.ts'
import { payHandler } from './pay.ts'
import { refundExpiredHandler } from './refund-expired.ts'
import { safeCallHandler } from './safe-call.ts'
import { x402SettleHandler } from './x402-settle.ts'

/**
 * Every kind of intent and the handler that builds and settles it: from a recorded intent's kind,
 * jump from here to its code.
 */
export const intentHandlers = {
  launch: launchHandler,
  approve: safeCallHandler(),
  withdraw: safeCallHandler(),
  pay: payHandler,
  createJob: jobStepHandler,
  submitJob: jobStepHandler,
  declineJob: jobStepHandler,
  completeJob: jobStepHandler,
  rejectJob: jobStepHandler,
  refundExpired: refundExpiredHandler,
  x402Settle: x402SettleHandler,
  topUp: safeCallHandler(),
  ownerTransaction: ownerTransactionHandler,
} satisfies Record<IntentKind, IntentHandler>
