/**
 * @agora/runtime: the engine that hosts AI agents with on-chain identities and Safe wallets, moves
 * their money through the economy contract (payments and escrowed jobs), and keeps every money
 * movement crash-safe through an outbox of intents.
 *
 * Applications use `createRuntime` (or `startEmbeddedRuntime`) and the `Runtime` it returns; the
 * views (`AgentView`, `PaymentView`, …) and their zod schemas describe everything it answers with.
 */

// The root of the error tree and its general kinds live in the lowest package; the runtime adds its own.
export {
  AuthError,
  BaseError,
  ConfigError,
  ConflictError,
  type ErrorCode,
  InternalError,
  NotFoundError,
  StorageError,
  ValidationError,
} from '@agora/db'
export { type AgentJson, agentFromJson, agentJsonSchema } from './actions/agents/agent-from-json.ts'
export type { GetBalancesParameters } from './actions/agents/get-balances.ts'
export type { LaunchAgentParameters } from './actions/agents/launch-agent.ts'
export type { ListAgentsParameters, ListAgentsReturnType } from './actions/agents/list-agents.ts'
export type { MoveToModuleParameters } from './actions/agents/move-to-module.ts'
export type { OwnerSignatureRequest } from './actions/agents/owner-transaction.ts'
export type { SetAgentStatusParameters } from './actions/agents/set-agent-status.ts'
export {
  type UpdateAgentParameters,
  type UpdateAgentReturnType,
  updateAgentSchema,
} from './actions/agents/update-agent.ts'
export {
  type WithdrawParameters,
  type WithdrawReturnType,
  withdrawalViewSchema,
} from './actions/agents/withdraw.ts'
export {
  type HandOverInputParameters,
  type HandOverInputReturnType,
  jobInputMessage,
  jobReadHeaders,
  jobReadMessage,
  specHashOf,
} from './actions/jobs/hand-over-input.ts'
export type { HireParameters } from './actions/jobs/hire.ts'
export {
  defaultWebhookTiming,
  maxWebhookAnswerBytes,
  WebhookFailure,
  type WebhookTiming,
  webhookHeaders,
  webhookMessage,
} from './actions/jobs/serve-webhook.ts'
export { isDevelopmentChain, type WebhookScope, webhookUrlProblem } from './actions/jobs/webhook-url.ts'
export { type GetListingReturnType, getListing } from './actions/market/get-listing.ts'
export { type GetMarketOfferingReturnType, getMarketOffering } from './actions/market/get-market-offering.ts'
export type { SearchMarketParameters, SearchMarketReturnType } from './actions/market/search-market.ts'
export type { PayParameters } from './actions/payments/pay.ts'
export type {
  PayX402ErrorType,
  PayX402Parameters,
  PayX402ReturnType,
  X402Settlement,
} from './actions/payments/pay-x402.ts'
export type { X402Method } from './actions/payments/x402-request.ts'
export { agentTools } from './actions/tasks/agent-tools.ts'
export type { GetTaskParameters } from './actions/tasks/get-task.ts'
export type { ListTasksParameters, ListTasksReturnType } from './actions/tasks/list-tasks.ts'
export type { RunTaskParameters, RunTaskReturnType } from './actions/tasks/run-task.ts'
export type { StartTaskParameters, StartTaskReturnType } from './actions/tasks/start-task.ts'
export type { DeliverSaleParameters } from './actions/x402/deliver-sale.ts'
export { quoteSale, type SaleQuote } from './actions/x402/quote-sale.ts'
export type { ActivityEvent } from './activity/activity-log.ts'
export { canonicalJson } from './canonical-json.ts'
export type { DeploymentManifest } from './client.ts'
export type { AgentLocation } from './cluster/hosted.ts'
export { type CreateRuntimeParameters, createRuntime } from './create-runtime.ts'
export {
  type AgentDefinition,
  type DefineAgentParameters,
  defaultModelPolicy,
  defineAgent,
  defineOffering,
  type Evaluator,
  type Offering,
  type OfferingContext,
  offeringNameSchema,
  type ProviderPolicy,
  providerPolicySchema,
  type SpendingPolicy,
  spendingPolicySchema,
  type Verdict,
} from './define-agent.ts'
export {
  type EmbeddedRuntime,
  type StartEmbeddedRuntimeParameters,
  startEmbeddedRuntime,
} from './embedded.ts'
export {
  AgentElsewhereError,
  ChainUnavailableError,
  type ContractErrorData,
  ContractRevertedError,
  errorCodeOf,
  InferenceError,
  OwnerSignatureRequiredError,
  PolicyError,
  TransactionFailedError,
  toRuntimeError,
  wrapChainError,
} from './errors.ts'
export {
  defaultQuotaLimits,
  QuotaError,
  type QuotaLimits,
  type QuotasParameters,
} from './guard/quotas.ts'
export { createChatModel, wrapInferenceError } from './inference/chat-model.ts'
export {
  type CompleteParameters,
  type CompleteReturnType,
  complete,
  type ToolCall,
} from './inference/complete.ts'
export type {
  ChatMessage,
  InferenceUsage,
  ToolChoice,
  ToolDefinition,
  UsageRecorder,
} from './inference/invoke-model.ts'
export {
  type ModelConfig,
  type ModelConfigInput,
  type ModelCredential,
  type ModelJson,
  type ModelPatch,
  type ModelProvider,
  modelConfigFromEnv,
  modelConfigSchema,
  modelJsonSchema,
  modelKeyEnvsVariable,
  modelPatchSchema,
  parseModelConfig,
} from './inference/model-config.ts'
export {
  type GenerateStructuredParameters,
  type GenerateStructuredReturnType,
  generateStructured,
} from './inference/structured.ts'
export {
  type CompiledJsonSchema,
  compileJsonSchema,
  describeJsonSchemaIssues,
  type JsonSchema,
  type JsonSchemaIssue,
  zodFromJsonSchema,
} from './json-schema.ts'
export {
  type FetchRegistrationFileParameters,
  type FetchRegistrationFileReturnType,
  fetchRegistrationFile,
  parseRegistrationFile,
  type RegistrationFileContext,
  RegistrationFileRefused,
  registrationFileLimits,
} from './market/fetch-registration-file.ts'
export { launchURI, readBaseURI } from './market/launch-uri.ts'
export {
  type RefreshListingParameters,
  type RefreshListingReturnType,
  refreshListing,
} from './market/refresh-listing.ts'
export type { AgentHandle, JobHandle, Runtime, RuntimeHealth } from './runtime.ts'
export { type ActivityView, activityViewSchema } from './views/activity-view.ts'
export { type AgentView, agentViewSchema, type ModelView, modelViewSchema } from './views/agent-view.ts'
export { type JobView, jobViewSchema } from './views/job-view.ts'
export {
  type MarketMatchView,
  type MarketOfferingView,
  marketMatchViewSchema,
  marketOfferingViewSchema,
} from './views/market-view.ts'
export { type Money, moneySchema, toMoney } from './views/money.ts'
export { type OfferingView, offeringViewSchema } from './views/offering-view.ts'
export { type PaymentView, paymentViewSchema } from './views/payment-view.ts'
export {
  agentUrls,
  type RegistrationFile,
  type RegistrationOffering,
  registrationFileSchema,
  registrationOfferingSchema,
} from './views/registration-file.ts'
export {
  type ClientRecordView,
  clientRecordViewSchema,
  type ReputationView,
  reputationViewSchema,
} from './views/reputation-view.ts'
export { type TaskView, taskViewSchema } from './views/task-view.ts'
export type { Viewer, ViewerParameters } from './views/viewer.ts'
export { createKeyVault, loadOrCreateMasterKey, parseMasterKey } from './wallet/key-vault.ts'
export { safeTxTypes } from './wallet/safe-signer.ts'
export { createSaleFacilitator, type SaleFacilitator, saleKey } from './x402/facilitator.ts'
