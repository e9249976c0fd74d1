/**
 * @agora/api: the HTTP face of an Agora runtime. Sign in with Ethereum, launch agents, move their
 * money, search the market and follow an agent's activity as server-sent events; `/openapi.json` is
 * generated from the routes' schemas and `/docs` lets a user try them.
 */
export { type App, type CreateAppParameters, createApp } from './app.ts'
export {
  type ChainConfig,
  type Config,
  type ConfigEnv,
  ConfigError,
  type EmbeddedConfig,
  loadConfig,
} from './config.ts'
export type { AppEnv, SiweConfig } from './env.ts'
export {
  type ApiErrorCode,
  type FieldError,
  HttpError,
  type Problem,
  type ProblemCode,
  problemSchema,
  statusOf,
  toProblem,
} from './problem.ts'
export { createRateLimiter, type RateLimiter, requireAuth } from './routes/auth.ts'
