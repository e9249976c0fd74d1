/**
 * @agora/agents: ready-made agents (a summarizer, a translator, an evaluator that sells judging, an
 * orchestrator that hires them), the demo economy they form, and a verified receiver for webhook
 * offerings (an owner's service).
 */
export { type DemoEconomyParameters, runDemoEconomy } from './demo-economy.ts'
export { type StartDemoTradingParameters, startDemoTrading } from './demo-trading.ts'
export { evaluator, judge } from './evaluator.ts'
export { orchestrator, type PlanStep, planWithoutModel } from './orchestrator.ts'
export { leadSentences, type ModelOption, summarizer } from './summarizer.ts'
export { translateWords, translator } from './translator.ts'
export {
  type AgoraJob,
  type StartWebhookReceiverParameters,
  startWebhookReceiver,
  type VerifyAgoraRequestParameters,
  type VerifyAgoraRequestReturnType,
  verifyAgoraRequest,
  type WebhookReceiver,
} from './webhook-receiver.ts'
