/**
 * @agora/db: everything Agora's runtime keeps between restarts (agents and their offerings, jobs,
 * payments, the outbox of chain intents that makes sending transactions crash-safe, indexer
 * cursors, the activity feed, model usage, sign-in nonces and sessions) on Postgres, or on an
 * embedded PGlite when no database URL is given. Amounts are decimal strings end to end.
 */
export {
  type AppendActivityParameters,
  appendActivities,
  appendActivity,
  type ListActivityParameters,
  lastActivityId,
  listActivity,
} from './activity.ts'
export {
  ensureOwner,
  getAgent,
  getAgentByChainId,
  getAgentBySafe,
  type InsertAgentParameters,
  insertAgent,
  type ListAgentsParameters,
  listAgents,
  listAgentsByOwner,
  pageAgents,
  type UpdateAgentParameters,
  updateAgent,
} from './agents.ts'
export {
  type CreateDbParameters,
  type CreateDbReturnType,
  createDb,
  type Db,
  isDriverClosedSocketCrash,
  refreshStatistics,
  type Schema,
  type Transaction,
} from './create-db.ts'
export { createId } from './create-id.ts'
export {
  AuthError,
  BaseError,
  type BaseErrorParameters,
  ConfigError,
  ConflictError,
  type ConflictErrorCode,
  type ErrorCode,
  InternalError,
  NotFoundError,
  StorageError,
  type StorageErrorCode,
  ValidationError,
} from './errors.ts'
export {
  deleteBlocksFrom,
  getBlockHash,
  getCursor,
  pruneBlocks,
  recordBlocks,
  type SetCursorParameters,
  setCursor,
} from './indexer-state.ts'
export {
  getLandedNonces,
  listSignerIntentsFrom,
  markIntentsLandedAs,
  markIntentsReplaced,
  markIntentsUnsent,
  type TxVersion,
  txVersionsOf,
} from './intent-recovery.ts'
export {
  getHighestNonce,
  getIntent,
  getIntentByKey,
  listUnfinishedIntents,
  type MarkIntentConfirmedParameters,
  type MarkIntentSentParameters,
  markIntentConfirmed,
  markIntentFailed,
  markIntentSent,
  markIntentsConfirmed,
  markIntentsSent,
  type RecordIntentParameters,
  type RecordIntentReturnType,
  recordIntent,
  recordIntents,
} from './intents.ts'
export {
  deleteJobInputsBefore,
  getJobInput,
  type SaveJobInputParameters,
  saveJobInput,
} from './job-inputs.ts'
export {
  advanceJob,
  getJob,
  getJobByKey,
  type JobInput,
  type ListJobsParameters,
  listJobs,
  pageJobs,
  type UpdateJobParameters,
  updateJob,
  upsertJob,
} from './jobs.ts'
export {
  getListing,
  getListingByWallet,
  getMarketOffering,
  type ListingIdentity,
  type ListingSummary,
  listListingIds,
  listUnlistedAgents,
  type MarketEndpoints,
  type MarketOfferingInput,
  type MarketOfferingMatch,
  type MarketSearchMatch,
  type SearchMarketOfferingsParameters,
  type SetMarketReputationParameters,
  type SkipListingParameters,
  searchMarketOfferings,
  setMarketReputation,
  skipListing,
  touchListing,
  type WriteListingParameters,
  writeListing,
} from './market.ts'
export { type Notifications, notifications } from './notifications.ts'
export {
  listOfferings,
  type OfferingInput,
  type OfferingMatch,
  type SearchOfferingsParameters,
  searchOfferings,
  type UpsertOfferingsParameters,
  upsertOfferings,
} from './offerings.ts'
export { listOwnerIntents, type OwnerIntent } from './owner-intents.ts'
export {
  decodeCursor,
  encodeCursor,
  PAGE_LIMIT,
  type Page,
  type PageParameters,
  pageLimit,
  toPage,
} from './page.ts'
export {
  getPayment,
  getPaymentByKey,
  type InsertPaymentParameters,
  type InsertPaymentReturnType,
  insertPayment,
  insertPayments,
  listPayments,
  markPaymentsConfirmed,
  updatePayment,
} from './payments.ts'
export * as tables from './schema.ts'
export {
  type Activity,
  type ActivityKind,
  type Agent,
  type AgentStatus,
  activityKinds,
  agentStatuses,
  type HandedInput,
  type IndexedBlock,
  type IndexerCursor,
  type Intent,
  type IntentKind,
  type IntentStatus,
  intentKinds,
  intentStatuses,
  type Job,
  type JobRecordStatus,
  jobInputs,
  jobRecordStatuses,
  type ListingStatus,
  listingStatuses,
  type MarketAgent,
  type MarketOffering,
  marketAgents,
  marketOfferings,
  type Offering,
  type Owner,
  type Payment,
  type PaymentKind,
  type PaymentStatus,
  paymentKinds,
  paymentStatuses,
  type Session,
  type SiweNonce,
  type TaskStatus,
  taskStatuses,
  type Usage,
  zeroAddress,
} from './schema.ts'
export { type SessionLocks, sessionLocks } from './session-locks.ts'
export { type CreateSessionParameters, createSession, getSession, revokeSession } from './sessions.ts'
export { getShardHolder, recordShardHolder, type ShardHolder } from './shards.ts'
export {
  consumeSiweNonce,
  type IssueSiweNonceParameters,
  issueSiweNonce,
  pruneSiweNonces,
} from './siwe-nonces.ts'
export {
  type FinishTaskParameters,
  failRunningTasks,
  finishTask,
  getTask,
  type InsertTaskParameters,
  insertTask,
  type ListTasksParameters,
  listTasks,
  setTaskSteps,
  type Task,
} from './tasks.ts'
export { transaction } from './transaction.ts'
export { type RecordUsageParameters, recordUsage, summarizeUsage, type UsageSummary } from './usage.ts'
