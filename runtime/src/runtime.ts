import type { Address, Hex } from 'viem'
import type { GetBalancesParameters } from './actions/agents/get-balances.ts'
import type { LaunchAgentParameters } from './actions/agents/launch-agent.ts'
import type { ListActivityParameters } from './actions/agents/list-activity.ts'
import type { ListAgentsParameters, ListAgentsReturnType } from './actions/agents/list-agents.ts'
import type { MoveToModuleParameters } from './actions/agents/move-to-module.ts'
import type { SetAgentStatusParameters } from './actions/agents/set-agent-status.ts'
import type { SubscribeActivityParameters } from './actions/agents/subscribe-activity.ts'
import type { UpdateAgentParameters, UpdateAgentReturnType } from './actions/agents/update-agent.ts'
import type { WithdrawParameters, WithdrawReturnType } from './actions/agents/withdraw.ts'
import type { GetJobParameters } from './actions/jobs/get-job.ts'
import type { HandOverInputParameters, HandOverInputReturnType } from './actions/jobs/hand-over-input.ts'
import type { HireParameters } from './actions/jobs/hire.ts'
import type { ListJobsParameters, ListJobsReturnType } from './actions/jobs/list-jobs.ts'
import type { WaitForJobParameters } from './actions/jobs/wait-for-job.ts'
import type { GetListingReturnType } from './actions/market/get-listing.ts'
import type { GetMarketOfferingReturnType } from './actions/market/get-market-offering.ts'
import type { SearchMarketParameters, SearchMarketReturnType } from './actions/market/search-market.ts'
import type { GetPaymentParameters } from './actions/payments/get-payment.ts'
import type { ListPaymentsParameters, ListPaymentsReturnType } from './actions/payments/list-payments.ts'
import type { PayParameters } from './actions/payments/pay.ts'
import type { PayX402Parameters, PayX402ReturnType } from './actions/payments/pay-x402.ts'
import type { GetTaskParameters } from './actions/tasks/get-task.ts'
import type { ListTasksParameters, ListTasksReturnType } from './actions/tasks/list-tasks.ts'
import type { RunTaskParameters, RunTaskReturnType } from './actions/tasks/run-task.ts'
import type { StartTaskParameters, StartTaskReturnType } from './actions/tasks/start-task.ts'
import type { DeliverSaleParameters } from './actions/x402/deliver-sale.ts'
import type { SaleQuote } from './actions/x402/quote-sale.ts'
import type { ActivityEvent } from './activity/activity-log.ts'
import type { DeploymentManifest } from './client.ts'
import type { AgentLocation } from './cluster/hosted.ts'
import type { AgentDefinition } from './define-agent.ts'
import type { RecoveryStatus } from './outbox/outbox-worker.ts'
import type { AgentView } from './views/agent-view.ts'
import type { JobView } from './views/job-view.ts'
import type { Money } from './views/money.ts'
import type { PaymentView } from './views/payment-view.ts'
import type { RegistrationFile } from './views/registration-file.ts'
import type { ReputationView } from './views/reputation-view.ts'
import type { TaskView } from './views/task-view.ts'
import type { SaleFacilitator } from './x402/facilitator.ts'

/** A job, to read now or to wait for. */
export type JobHandle = {
  readonly jobId: string
  get(): Promise<JobView>
  /** Resolves once the job is final (completed, rejected, declined, expired or failed). */
  done(parameters?: WaitForJobParameters): Promise<JobView>
}

/** One agent's actions, bound to its id: what code composing agents works with. */
export type AgentHandle = {
  readonly id: string
  info(): Promise<AgentView>
  pay(parameters: PayParameters): Promise<PaymentView>
  /** Buys an x402 resource from its Safe, within its spending policy (see `payX402`). */
  payX402(parameters: PayX402Parameters): Promise<PayX402ReturnType>
  hire(parameters: HireParameters): Promise<JobHandle>
  /** Its newest payments (a page; `runtime.listPayments` reads on). */
  payments(): Promise<PaymentView[]>
  /** Its newest jobs (a page; `runtime.listJobs` reads on). */
  jobs(): Promise<JobView[]>
  /** What its Safe holds of ETH and dUSD (or the given tokens). */
  balances(parameters?: GetBalancesParameters): Promise<Money[]>
  withdraw(parameters?: WithdrawParameters): Promise<WithdrawReturnType>
  /** Works towards a goal with its model and the agent tools, inside its spending policy. */
  runTask(parameters: RunTaskParameters): Promise<RunTaskReturnType>
}

/**
 * What `health()` reports: the chain's head, whether the database answers, and whether recovery
 * (of transactions left by an earlier run, an outage or a rolled-back chain) is running.
 */
export type RuntimeHealth = {
  chainId: number
  block: number | null
  database: 'ok' | 'unavailable'
  recovery: RecoveryStatus
  /** The shard of agents this process serves (see `createRuntime`'s `shard`). */
  shard: number
  /** Whether this process follows the chain (one does, among the processes sharing the database). */
  followsChain: boolean
}

/**
 * The runtime as applications and the HTTP API see it: agents, money, jobs, market, tasks and
 * activity, all by id. Agent ids are runtime ids (`agt_…`) or on-chain ids. Each method is one
 * action (`runtime/src/actions/…`), bound to the runtime's client by `createRuntime`.
 */
export type Runtime = {
  readonly chainId: number
  readonly manifest: DeploymentManifest
  /** The shard this process serves (see `createRuntime`'s `shard`). */
  readonly shard: number
  /**
   * Restores agents defined as JSON, catches up with the chain and follows it, and starts recovery:
   * what the last run (or a rolled-back chain) left unfinished is finished in the background, and
   * intents recorded later while the chain did not answer are retried while the runtime runs. Waits
   * for recovery a few seconds at most (`recoveryWaitMs`): a stuck transaction never holds it up;
   * `health().recovery` says whether it still runs.
   */
  start(): Promise<void>
  stop(): Promise<void>
  /** Makes a definition's handlers available (for agents launched by an earlier process). */
  register(definition: AgentDefinition): void
  /** Launches an agent (see `launchAgent`); idempotent by `id`. */
  launch(definition: AgentDefinition, parameters: LaunchAgentParameters): Promise<AgentHandle>
  agent(id: string): AgentHandle
  getAgent(id: string): Promise<AgentView>
  /** A page of agents, oldest first: `limit` (default 50, at most 200), then `cursor` (the page's `next`). */
  listAgents(parameters?: ListAgentsParameters): Promise<ListAgentsReturnType>
  /**
   * A policy change of an agent on the agent module needs its owners' Safe signatures: without
   * `ownerSignature` it throws `OwnerSignatureRequiredError` with the transaction to sign.
   */
  updateAgent(id: string, parameters: UpdateAgentParameters): Promise<UpdateAgentReturnType>
  /** Moves an agent launched before the agent module onto it (its owners sign; see `moveToModule`). */
  moveToModule(id: string, parameters?: MoveToModuleParameters): Promise<AgentView>
  setAgentStatus(id: string, parameters: SetAgentStatusParameters): Promise<AgentView>
  /** A payment recorded while the chain does not answer comes back `pending` (see `getPayment`), never as failed. */
  pay(agentId: string, parameters: PayParameters): Promise<PaymentView>
  /** Buys an x402 resource; a payment signed but not settled comes back `sent` with a `note`, never as failed. */
  payX402(agentId: string, parameters: PayX402Parameters): Promise<PayX402ReturnType>
  hire(agentId: string, parameters: HireParameters): Promise<JobView>
  /**
   * Read actions take a `viewer` (an address, or null for someone anonymous): private parts (job
   * inputs and deliverables, memos, task goals, model transcripts) are left out for anyone but
   * their parties. Without it, the operator's own code sees everything.
   */
  listPayments(agentId: string, parameters?: ListPaymentsParameters): Promise<ListPaymentsReturnType>
  /** One payment an agent made, by its id: where a pending payment is followed until it lands. */
  getPayment(agentId: string, paymentId: string, parameters?: GetPaymentParameters): Promise<PaymentView>
  getJob(jobId: string, parameters?: GetJobParameters): Promise<JobView>
  /**
   * A client not hosted here (any wallet) hands over the input of its escrow job with a provider
   * hosted here, signed, before or after funding it (see `handOverInput`).
   */
  handOverInput(parameters: HandOverInputParameters): Promise<HandOverInputReturnType>
  job(jobId: string): JobHandle
  listJobs(agentId: string, parameters?: ListJobsParameters): Promise<ListJobsReturnType>
  getBalances(agentId: string, parameters?: GetBalancesParameters): Promise<Money[]>
  withdraw(agentId: string, parameters?: WithdrawParameters): Promise<WithdrawReturnType>
  searchMarket(query?: SearchMarketParameters): Promise<SearchMarketReturnType>
  /** By on-chain id (any agent on the chain) or by the runtime id of an agent hosted here. */
  getReputation(agent: string): Promise<ReputationView>
  /** What the market knows of an agent on the chain (hosted here or not): listed or skipped, and why. */
  getListing(chainAgentId: string): Promise<GetListingReturnType>
  /** One offering of any agent the market lists, with where it is sold and who is paid (see `getMarketOffering`). */
  getMarketOffering(chainAgentId: string, name: string): Promise<GetMarketOfferingReturnType>
  registrationFile(chainAgentId: string): Promise<RegistrationFile>
  runTask(agentId: string, parameters: RunTaskParameters): Promise<RunTaskReturnType>
  startTask(agentId: string, parameters: StartTaskParameters): Promise<StartTaskReturnType>
  /** One task of the agent (its owner's only, with a `viewer`): status, steps so far, answer or error. */
  getTask(agentId: string, taskId: string, parameters?: GetTaskParameters): Promise<TaskView>
  /** The agent's tasks, newest first, a page at a time (its owner's only, with a `viewer`). */
  listTasks(agentId: string, parameters?: ListTasksParameters): Promise<ListTasksReturnType>
  /** An agent's stored activity after `afterId`, oldest first, at most `limit` (default 100) entries, as `viewer` may see it. */
  listActivity(agentId: string, parameters?: ListActivityParameters): Promise<ActivityEvent[]>
  /** Calls `listener` with every activity entry once stored (of `agentId`, as `viewer` may see it); returns the function that stops it. */
  subscribe(listener: (event: ActivityEvent) => void, parameters?: SubscribeActivityParameters): () => void
  /**
   * x402 selling: what an offering of a hosted agent costs as a paid HTTP resource, its input checked
   * first (`quoteSale`); its deliverable once the payment is verified (`deliverSale`); and the
   * runtime's own facilitator, which verifies and settles payments to hosted agents on chain.
   */
  quoteSale(agent: string, offering: string, input: unknown): Promise<SaleQuote>
  deliverSale(quote: SaleQuote, parameters: DeliverSaleParameters): Promise<unknown>
  readonly x402Facilitator: SaleFacilitator
  health(): Promise<RuntimeHealth>
  /**
   * Where an agent is served: by this process, or by the one holding its shard (`url`, as it
   * recorded it). Acting for an agent served elsewhere throws `AgentElsewhereError`.
   */
  locateAgent(id: string): Promise<AgentLocation>
  /**
   * Checks a signature by an account or a smart-contract wallet (ERC-1271, ERC-6492) on this chain.
   * With `asAgent`, an agent's Safe also signs through the key the agent module names for it (how an
   * agent signs job inputs and reads); sign-in never accepts that.
   */
  verifyMessage(parameters: {
    address: Address
    message: string
    signature: Hex
    asAgent?: boolean
  }): Promise<boolean>
}
