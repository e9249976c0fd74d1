import type { Outbox, Waiting } from './outbox.ts'

/** Queues `me` behind the intents already waiting for `lane`. */
export function joinLane(outbox: Outbox, lane: string, me: Waiting) {
  const queue = outbox.waiting.get(lane) ?? []
  queue.push(me)
  outbox.waiting.set(lane, queue)
}

/** Takes `me` and the intents of its kind waiting behind it in the lane (not yet taken), up to `maxBatch`. */
export function takeBatch(outbox: Outbox, lane: string, me: Waiting): Waiting[] {
  const batch = [me]
  for (const other of outbox.waiting.get(lane) ?? []) {
    if (batch.length >= outbox.maxBatch) break
    if (other === me || other.taken || other.sent || other.intent.kind !== me.intent.kind) continue
    other.taken = true
    batch.push(other)
  }
  return batch
}

/** Removes `me` from the lane's queue once it has been sent (or failed). */
export function leaveLane(outbox: Outbox, lane: string, me: Waiting) {
  const queue = outbox.waiting.get(lane)
  if (!queue) return
  const at = queue.indexOf(me)
  if (at >= 0) queue.splice(at, 1)
  if (queue.length === 0) outbox.waiting.delete(lane)
}
