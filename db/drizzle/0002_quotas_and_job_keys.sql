ALTER TABLE "jobs" ADD COLUMN "idempotency_key" text;--> statement-breakpoint
CREATE INDEX "intents_agent_id_created_at_idx" ON "intents" USING btree ("agent_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_client_idempotency_key_idx" ON "jobs" USING btree ("client_agent_id","idempotency_key") WHERE "jobs"."idempotency_key" is not null;