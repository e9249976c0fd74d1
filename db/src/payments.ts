import { and, desc, eq, inArray, or, sql } from 'drizzle-orm'
import type { Db } from './create-db.ts'
import { createId } from './create-id.ts'
import { ConflictError, NotFoundError } from './errors.ts'
import { normalizeAddress, normalizeUint, optional } from './normalize.ts'
import { decodeCursor, encodeCursor, type Page, type PageParameters, pageLimit, toPage } from './page.ts'
import { type Payment, type PaymentKind, type PaymentStatus, payments } from './schema.ts'

export type InsertPaymentParameters = {
  /** Defaults to a fresh `pay_…` id. */
  id?: string
  idempotencyKey: string
  /** `pay` (the default) or `x402`. */
  kind?: PaymentKind
  /** The paying agent when it is hosted here; null for an outside payer (then `toAgentId` is set). */
  fromAgentId: string | null
  fromAddress: string
  toChainAgentId?: string | null
  /** The paid agent when it is hosted here. */
  toAgentId?: string | null
  toAddress: string
  /** What an x402 payment bought (the resource's URL). */
  resource?: string | null
  token: string
  /** Smallest units of `token`, as a decimal string. */
  amount: string
  memo?: string | null
  txHash?: string | null
  status?: PaymentStatus
}

export type InsertPaymentReturnType = {
  payment: Payment
  /** False when the key was already recorded and `payment` is the earlier row. */
  created: boolean
}

/**
 * Records a payment once per idempotency key; a repeated key returns the first row.
 *
 * @example
 * const { payment } = await insertPayment(tx, { idempotencyKey, fromAgentId, fromAddress: safe, toAddress, token, amount: '2500000' })
 */
export async function insertPayment(
  db: Db,
  parameters: InsertPaymentParameters,
): Promise<InsertPaymentReturnType> {
  const [result] = await insertPayments(db, [parameters])
  return result!
}

/**
 * `insertPayment` for many payments in one statement (group commit); results are in the order given.
 *
 * @example
 * const [first, second] = await insertPayments(tx, [a, b])
 */
export async function insertPayments(
  db: Db,
  rows: InsertPaymentParameters[],
): Promise<InsertPaymentReturnType[]> {
  if (rows.length === 0) return []
  const values = rows.map((parameters) => ({
    ...parameters,
    id: parameters.id ?? createId('pay'),
    fromAddress: normalizeAddress(parameters.fromAddress, 'fromAddress'),
    toChainAgentId: optional(parameters.toChainAgentId, (v) => normalizeUint(v, 'toChainAgentId')),
    toAddress: normalizeAddress(parameters.toAddress, 'toAddress'),
    token: normalizeAddress(parameters.token, 'token'),
    amount: normalizeUint(parameters.amount, 'amount'),
  }))
  const inserted = await db
    .insert(payments)
    .values(values)
    .onConflictDoNothing({ target: payments.idempotencyKey })
    .returning()
  const byKey = new Map(inserted.map((row) => [row.idempotencyKey, { payment: row, created: true }]))
  const missing = values.filter((v) => !byKey.has(v.idempotencyKey)).map((v) => v.idempotencyKey)
  if (missing.length > 0) {
    const existing = await db.select().from(payments).where(inArray(payments.idempotencyKey, missing))
    for (const row of existing) byKey.set(row.idempotencyKey, { payment: row, created: false })
  }
  return values.map((v) => {
    const result = byKey.get(v.idempotencyKey)
    if (!result)
      throw new ConflictError(`Payment ${v.idempotencyKey} conflicted but cannot be read back.`, {
        code: 'IDEMPOTENCY_CONFLICT',
      })
    // The same key given twice in one call: the second is the first's repeat.
    if (result.created && result.payment.id !== v.id) return { payment: result.payment, created: false }
    return result
  })
}

/** @example await updatePayment(db, payment.id, { status: 'confirmed', txHash }) */
export async function updatePayment(
  db: Db,
  id: string,
  patch: { status?: PaymentStatus; txHash?: string | null },
): Promise<Payment> {
  const [payment] = await db
    .update(payments)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(eq(payments.id, id))
    .returning()
  if (!payment) throw new NotFoundError(`Payment ${id} not found.`, { code: 'NOT_FOUND' })
  return payment
}

/**
 * Marks many payments confirmed, each with its transaction, in one statement (group commit of
 * concurrent settlements). Returns the rows it updated; unknown ids are left out.
 *
 * @example
 * const rows = await markPaymentsConfirmed(db, [{ id: payment.id, txHash }])
 */
export async function markPaymentsConfirmed(
  db: Db,
  confirmed: { id: string; txHash: string }[],
): Promise<Payment[]> {
  if (confirmed.length === 0) return []
  const txHash = sql.join(
    [sql`case ${payments.id}`, ...confirmed.map((c) => sql`when ${c.id} then ${c.txHash}`), sql`end`],
    sql` `,
  )
  return db
    .update(payments)
    .set({ status: 'confirmed', txHash, updatedAt: sql`now()` })
    .where(
      inArray(
        payments.id,
        confirmed.map((c) => c.id),
      ),
    )
    .returning()
}

/** @example const payment = await getPayment(db, 'pay_…') */
export async function getPayment(db: Db, id: string): Promise<Payment | undefined> {
  const [payment] = await db.select().from(payments).where(eq(payments.id, id))
  return payment
}

/** @example const payment = await getPaymentByKey(db, `pay:${agentId}:${key}`) */
export async function getPaymentByKey(db: Db, idempotencyKey: string): Promise<Payment | undefined> {
  const [payment] = await db.select().from(payments).where(eq(payments.idempotencyKey, idempotencyKey))
  return payment
}

/**
 * A page of an agent's payments, made and received (x402 sales, and payments to its on-chain id
 * when `chainAgentId` is given), newest first.
 *
 * @example
 * const first = await listPayments(db, { agentId, limit: 20 })
 * const second = await listPayments(db, { agentId, limit: 20, cursor: first.next! })
 */
export async function listPayments(
  db: Db,
  parameters: { agentId: string; chainAgentId?: string | null } & PageParameters,
): Promise<Page<Payment>> {
  const limit = pageLimit(parameters.limit)
  const [before] = parameters.cursor ? decodeCursor(parameters.cursor, 'payments', ['string']) : []
  const rows = await db
    .select()
    .from(payments)
    .where(
      and(
        or(
          eq(payments.fromAgentId, parameters.agentId),
          eq(payments.toAgentId, parameters.agentId),
          parameters.chainAgentId ? eq(payments.toChainAgentId, parameters.chainAgentId) : undefined,
        ),
        before === undefined
          ? undefined
          : sql`(${payments.createdAt}, ${payments.id}) < (select p.created_at, p.id from ${payments} p where p.id = ${before})`,
      ),
    )
    .orderBy(desc(payments.createdAt), desc(payments.id))
    .limit(limit + 1)
  return toPage(rows, limit, (last) => encodeCursor('payments', [last.id]))
}
