import type { Job } from '@agora/db'
import type { RuntimeClient } from '../../client.ts'
import type { ProviderPolicy } from '../../define-agent.ts'
import { getClientRecord } from '../market/get-client-record.ts'

export type CheckClientReturnType = string | undefined

/**
 * Whether a provider serves a funded job's client under its provider policy: `undefined` when it
 * does, else the reason it declines (the client is refunded in full, and a decline counts in no
 * record). The escrow cannot keep a client from reading a delivery and rejecting it; this is where a
 * provider chooses whom it trusts with its work: only jobs with an evaluator (one of its trusted
 * evaluators, when it names them), only clients whose on-chain record is below a rejection rate.
 * Reads the chain only for a rejection rate; a chain that does not answer throws (the job is served
 * or declined when it is tried again), rather than serving unchecked.
 *
 * @example
 * const refused = await checkClient(client, job, definition.providerPolicy)
 * if (refused) return declineWith(refused)
 */
export async function checkClient(
  client: Pick<RuntimeClient, 'chain'>,
  job: Pick<Job, 'clientAddress' | 'evaluator'>,
  policy: ProviderPolicy | undefined,
): Promise<CheckClientReturnType> {
  if (!policy) return undefined
  const evaluator = job.evaluator?.toLowerCase()
  const trusted = policy.trustedEvaluators?.map((a) => a.toLowerCase())
  if ((policy.requireEvaluator || trusted) && (!evaluator || evaluator === job.clientAddress.toLowerCase()))
    return 'This provider serves only jobs with an evaluator other than the client.'
  if (trusted && !trusted.includes(evaluator!))
    return `This provider does not accept ${evaluator} as an evaluator.`
  if (policy.maxRejectionRate !== undefined) {
    const record = await getClientRecord(client, job.clientAddress)
    if (record.rejectionRate > policy.maxRejectionRate) {
      const percent = (rate: number) => `${Math.round(rate * 1000) / 10}%`
      return `The client's rejection rate is ${percent(record.rejectionRate)} (${record.rejected + record.expired} of ${record.completed + record.rejected + record.expired} jobs rejected or left to expire), above the ${percent(policy.maxRejectionRate)} this provider accepts.`
    }
  }
  return undefined
}
