/**
 * @agora/api: the HTTP face of an Agora runtime. Sign in with Ethereum, launch agents, move their
 * money, search the market and follow an agent's activity as server-sent events.
 */
export { type App, type CreateAppParameters, createApp } from './app.ts'
export { createRateLimiter, type RateLimiter, requireAuth } from './auth.ts'
export {
  type ChainConfig,
  type Config,
  type ConfigEnv,
  ConfigError,
  type EmbeddedConfig,
  loadConfig,
} from './config.ts'
export type { AppEnv, SiweConfig } from './env.ts'
export { openApiDocument } from './openapi.ts'
export { type FieldError, HttpProblem, type Problem, toProblem } from './problem.ts'
