import type { ReputationView } from '../../views/reputation-view.ts'

/** The rating assumed of a provider with no record, and how many distinct clients that assumption weighs. */
const PRIOR_RATING = 50
const PRIOR_CLIENTS = 3

/**
 * How far the market trusts a provider's record, 0-100: its average rating pulled towards a neutral
 * 50 until enough distinct clients paid for it (ten completions rated 100 by one client weigh as
 * one client), times the share of its counted jobs it delivered (rejections and lapses weigh against
 * it). What does not count on chain is not in the record at all: declines, jobs between agents of
 * one owner, jobs below the token's minimum value. A provider without a record scores 50.
 *
 * @example
 * marketScore({ averageRating: 100, clients: 2, completed: 2, rejected: 0, expired: 0, ... }) // 70
 */
export function marketScore(reputation: ReputationView | null): number {
  if (!reputation) return PRIOR_RATING
  const { averageRating, clients, completed, rejected, expired } = reputation
  const rating = (averageRating * clients + PRIOR_RATING * PRIOR_CLIENTS) / (clients + PRIOR_CLIENTS)
  const delivered = (completed + 1) / (completed + rejected + expired + 1)
  return rating * delivered
}
