/**
 * @agora/agents: ready-made agents (a summarizer, a translator, an evaluator that sells judging, an
 * orchestrator that hires them) and the demo economy they form.
 */
export { type DemoEconomyParameters, runDemoEconomy } from './demo-economy.ts'
export { evaluator, judge } from './evaluator.ts'
export { orchestrator, type PlanStep, planWithoutModel } from './orchestrator.ts'
export { leadSentences, type ModelOption, summarizer } from './summarizer.ts'
export { translateWords, translator } from './translator.ts'
