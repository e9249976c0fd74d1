CREATE TABLE "activity" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"agent_id" text,
	"kind" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"chain_agent_id" numeric(78, 0),
	"owner" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"instructions" text DEFAULT '' NOT NULL,
	"definition" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'launching' NOT NULL,
	"signer_address" text NOT NULL,
	"encrypted_key" text NOT NULL,
	"safe_address" text,
	"account_address" text,
	"launch_tx" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agents_chain_agent_id_unique" UNIQUE("chain_agent_id"),
	CONSTRAINT "agents_signer_address_unique" UNIQUE("signer_address"),
	CONSTRAINT "agents_safe_address_unique" UNIQUE("safe_address"),
	CONSTRAINT "agents_account_address_unique" UNIQUE("account_address"),
	CONSTRAINT "agents_status_check" CHECK ("agents"."status" in ('launching', 'active', 'paused', 'retired')),
	CONSTRAINT "agents_signer_address_check" CHECK ("agents"."signer_address" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "agents_safe_address_check" CHECK ("agents"."safe_address" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "agents_account_address_check" CHECK ("agents"."account_address" ~ '^0x[0-9a-f]{40}$')
);
--> statement-breakpoint
CREATE TABLE "indexed_blocks" (
	"number" bigint PRIMARY KEY NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "indexer_cursors" (
	"name" text PRIMARY KEY NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "intents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"kind" text NOT NULL,
	"agent_id" text,
	"payload" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"signer" text NOT NULL,
	"nonce" integer,
	"tx_hash" text,
	"raw_tx" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "intents_idempotency_key_unique" UNIQUE("idempotency_key"),
	CONSTRAINT "intents_status_check" CHECK ("intents"."status" in ('pending', 'sent', 'confirmed', 'failed')),
	CONSTRAINT "intents_signer_check" CHECK ("intents"."signer" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "intents_nonce_check" CHECK ("intents"."nonce" >= 0)
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"job_id" text PRIMARY KEY NOT NULL,
	"client_address" text NOT NULL,
	"client_agent_id" text,
	"provider_chain_agent_id" numeric(78, 0) NOT NULL,
	"provider_agent_id" text,
	"offering" text NOT NULL,
	"input" jsonb,
	"spec_hash" text NOT NULL,
	"token" text NOT NULL,
	"budget" numeric(78, 0) NOT NULL,
	"deadline" timestamp with time zone NOT NULL,
	"evaluator" text,
	"status" text DEFAULT 'funded' NOT NULL,
	"deliverable" jsonb,
	"deliverable_hash" text,
	"rating" integer,
	"fee" numeric(78, 0),
	"payout" numeric(78, 0),
	"create_tx" text,
	"submit_tx" text,
	"settle_tx" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "jobs_job_id_check" CHECK ("jobs"."job_id" ~ '^[0-9]+$'),
	CONSTRAINT "jobs_status_check" CHECK ("jobs"."status" in ('pending', 'funded', 'submitted', 'completed', 'rejected', 'declined', 'expired', 'failed')),
	CONSTRAINT "jobs_client_address_check" CHECK ("jobs"."client_address" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "jobs_token_check" CHECK ("jobs"."token" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "jobs_evaluator_check" CHECK ("jobs"."evaluator" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "jobs_budget_check" CHECK ("jobs"."budget" >= 0)
);
--> statement-breakpoint
CREATE TABLE "offerings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"price" numeric(78, 0) NOT NULL,
	"token" text DEFAULT '0x0000000000000000000000000000000000000000' NOT NULL,
	"input_schema" jsonb,
	"capabilities" text[] DEFAULT '{}' NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "offerings_price_check" CHECK ("offerings"."price" >= 0),
	CONSTRAINT "offerings_token_check" CHECK ("offerings"."token" ~ '^0x[0-9a-f]{40}$')
);
--> statement-breakpoint
CREATE TABLE "owners" (
	"address" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "owners_address_check" CHECK ("owners"."address" ~ '^0x[0-9a-f]{40}$')
);
--> statement-breakpoint
CREATE TABLE "payments" (
	"id" text PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"from_agent_id" text NOT NULL,
	"from_address" text NOT NULL,
	"to_chain_agent_id" numeric(78, 0),
	"to_address" text NOT NULL,
	"token" text NOT NULL,
	"amount" numeric(78, 0) NOT NULL,
	"memo" text,
	"tx_hash" text,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payments_idempotency_key_unique" UNIQUE("idempotency_key"),
	CONSTRAINT "payments_status_check" CHECK ("payments"."status" in ('pending', 'sent', 'confirmed', 'failed')),
	CONSTRAINT "payments_from_address_check" CHECK ("payments"."from_address" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "payments_to_address_check" CHECK ("payments"."to_address" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "payments_token_check" CHECK ("payments"."token" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "payments_amount_check" CHECK ("payments"."amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"address" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sessions_address_check" CHECK ("sessions"."address" ~ '^0x[0-9a-f]{40}$')
);
--> statement-breakpoint
CREATE TABLE "siwe_nonces" (
	"nonce" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"job_id" text,
	"model" text NOT NULL,
	"prompt_tokens" integer NOT NULL,
	"completion_tokens" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_tokens_check" CHECK ("usage"."prompt_tokens" >= 0 and "usage"."completion_tokens" >= 0)
);
--> statement-breakpoint
ALTER TABLE "activity" ADD CONSTRAINT "activity_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_owner_owners_address_fk" FOREIGN KEY ("owner") REFERENCES "public"."owners"("address") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "intents" ADD CONSTRAINT "intents_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_client_agent_id_agents_id_fk" FOREIGN KEY ("client_agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_provider_agent_id_agents_id_fk" FOREIGN KEY ("provider_agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "offerings" ADD CONSTRAINT "offerings_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_from_agent_id_agents_id_fk" FOREIGN KEY ("from_agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage" ADD CONSTRAINT "usage_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "activity_agent_id_id_idx" ON "activity" USING btree ("agent_id","id");--> statement-breakpoint
CREATE INDEX "agents_owner_idx" ON "agents" USING btree ("owner");--> statement-breakpoint
CREATE INDEX "intents_unfinished_idx" ON "intents" USING btree ("id") WHERE "intents"."status" in ('pending', 'sent');--> statement-breakpoint
CREATE INDEX "intents_agent_id_idx" ON "intents" USING btree ("agent_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "intents_signer_nonce_idx" ON "intents" USING btree ("signer","nonce") WHERE "intents"."nonce" is not null and "intents"."status" <> 'failed';--> statement-breakpoint
CREATE INDEX "jobs_client_agent_id_idx" ON "jobs" USING btree ("client_agent_id");--> statement-breakpoint
CREATE INDEX "jobs_provider_agent_id_idx" ON "jobs" USING btree ("provider_agent_id");--> statement-breakpoint
CREATE INDEX "jobs_provider_chain_agent_id_idx" ON "jobs" USING btree ("provider_chain_agent_id");--> statement-breakpoint
CREATE INDEX "jobs_client_address_idx" ON "jobs" USING btree ("client_address");--> statement-breakpoint
CREATE INDEX "jobs_status_deadline_idx" ON "jobs" USING btree ("status","deadline");--> statement-breakpoint
CREATE UNIQUE INDEX "offerings_agent_id_name_idx" ON "offerings" USING btree ("agent_id","name");--> statement-breakpoint
CREATE INDEX "offerings_capabilities_idx" ON "offerings" USING gin ("capabilities");--> statement-breakpoint
CREATE INDEX "payments_from_agent_id_idx" ON "payments" USING btree ("from_agent_id","created_at");--> statement-breakpoint
CREATE INDEX "sessions_address_idx" ON "sessions" USING btree ("address");--> statement-breakpoint
CREATE INDEX "sessions_expires_at_idx" ON "sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "siwe_nonces_expires_at_idx" ON "siwe_nonces" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "usage_agent_id_created_at_idx" ON "usage" USING btree ("agent_id","created_at");--> statement-breakpoint
CREATE INDEX "usage_job_id_idx" ON "usage" USING btree ("job_id");