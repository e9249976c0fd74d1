import { type Db, listJobs } from '@agora/db'
import type { AgentDefinition, Offering } from '../../define-agent.ts'
import type { ModelFromJsonOptions } from '../../inference/model-config.ts'
import { type AgentJson, agentFromJson } from './agent-from-json.ts'

/**
 * A version of an offering that a PATCH retired or changed, hosted until the jobs hired before
 * that are done: a job keeps the terms it was funded on (its price is in escrow already; its input
 * schema, prompt, webhook and output schema are the ones its client agreed to).
 */
export type FormerOffering = {
  offering: Offering
  /** When it stopped being offered: jobs hired before this are served by it. */
  until: Date
}

/** A definition as hosted in this process: with the former versions of its offerings. */
export type HostedDefinition = AgentDefinition & { formerOfferings?: FormerOffering[] }

/** A former offering as the agent's stored definition keeps it (as JSON), to host it again after a restart. */
export type StoredFormerOffering = { offering: { name: string } & Record<string, unknown>; until: string }

/**
 * The version of an offering a job was hired for: the earliest former version retired or changed
 * after the job was recorded, else the current one.
 *
 * @example
 * const offering = offeringForJob(definition, job)
 */
export function offeringForJob(
  definition: AgentDefinition,
  job: { offering: string; createdAt: Date },
): Offering | undefined {
  let version: FormerOffering | undefined
  for (const former of (definition as HostedDefinition).formerOfferings ?? []) {
    if (former.offering.name !== job.offering || former.until <= job.createdAt) continue
    if (!version || former.until < version.until) version = former
  }
  return version?.offering ?? definition.offerings.find((o) => o.name === job.offering)
}

/**
 * The former versions some unfinished job (pending, funded or submitted, hired before the version
 * ended) may still need; the others are dropped.
 */
export async function stillNeeded(
  db: Db,
  agentId: string,
  formers: StoredFormerOffering[],
): Promise<StoredFormerOffering[]> {
  if (formers.length === 0) return []
  const open = await listJobs(db, {
    agentId,
    role: 'provider',
    status: ['pending', 'funded', 'submitted'],
    limit: 10_000,
  })
  return formers.filter((former) =>
    open.some((job) => job.offering === former.offering.name && job.createdAt < new Date(former.until)),
  )
}

/**
 * Hosts again the former offerings an agent defined as JSON stored, built with its current model
 * (a version that no longer builds, a prompt offering of an agent whose model was removed say, is
 * left out: its jobs are declined and refunded).
 */
export function restoreFormerOfferings(
  json: AgentJson,
  stored: StoredFormerOffering[],
  options: ModelFromJsonOptions,
): FormerOffering[] {
  const restored: FormerOffering[] = []
  for (const former of stored) {
    try {
      const [offering] = agentFromJson(
        { name: json.name, model: json.model, offerings: [former.offering] } as AgentJson,
        options,
      ).offerings
      if (offering) restored.push({ offering, until: new Date(former.until) })
    } catch {
      // Not servable any more (see above).
    }
  }
  return restored
}
