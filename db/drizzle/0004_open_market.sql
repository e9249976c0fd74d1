CREATE TABLE "job_inputs" (
	"job_id" text PRIMARY KEY NOT NULL,
	"client_address" text NOT NULL,
	"provider_chain_agent_id" numeric(78, 0) NOT NULL,
	"offering" text NOT NULL,
	"input" jsonb NOT NULL,
	"nonce" text NOT NULL,
	"spec_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "job_inputs_job_id_check" CHECK ("job_inputs"."job_id" ~ '^[0-9]+$'),
	CONSTRAINT "job_inputs_client_address_check" CHECK ("job_inputs"."client_address" ~ '^0x[0-9a-f]{40}$')
);
--> statement-breakpoint
CREATE TABLE "market_agents" (
	"chain_agent_id" numeric(78, 0) PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"wallet" text,
	"uri" text DEFAULT '' NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"agent_id" text,
	"status" text DEFAULT 'skipped' NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"error" text,
	"file" jsonb,
	"file_hash" text,
	"fetched_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "market_agents_status_check" CHECK ("market_agents"."status" in ('listed', 'skipped')),
	CONSTRAINT "market_agents_owner_check" CHECK ("market_agents"."owner" ~ '^0x[0-9a-f]{40}$'),
	CONSTRAINT "market_agents_wallet_check" CHECK ("market_agents"."wallet" ~ '^0x[0-9a-f]{40}$')
);
--> statement-breakpoint
CREATE TABLE "market_offerings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chain_agent_id" numeric(78, 0) NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"price" numeric(78, 0) NOT NULL,
	"token" text NOT NULL,
	"input_schema" jsonb,
	"output_schema" jsonb,
	"capabilities" text[] DEFAULT '{}' NOT NULL,
	"endpoints" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "market_offerings_price_check" CHECK ("market_offerings"."price" >= 0),
	CONSTRAINT "market_offerings_token_check" CHECK ("market_offerings"."token" ~ '^0x[0-9a-f]{40}$')
);
--> statement-breakpoint
ALTER TABLE "payments" ALTER COLUMN "from_agent_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "kind" text DEFAULT 'pay' NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "to_agent_id" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "resource" text;--> statement-breakpoint
ALTER TABLE "market_agents" ADD CONSTRAINT "market_agents_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "market_offerings" ADD CONSTRAINT "market_offerings_chain_agent_id_market_agents_chain_agent_id_fk" FOREIGN KEY ("chain_agent_id") REFERENCES "public"."market_agents"("chain_agent_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_inputs_created_at_idx" ON "job_inputs" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "market_agents_agent_id_idx" ON "market_agents" USING btree ("agent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "market_offerings_agent_name_idx" ON "market_offerings" USING btree ("chain_agent_id","name");--> statement-breakpoint
CREATE INDEX "market_offerings_capabilities_idx" ON "market_offerings" USING gin ("capabilities");--> statement-breakpoint
CREATE INDEX "market_offerings_token_price_idx" ON "market_offerings" USING btree ("token","price");--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_to_agent_id_agents_id_fk" FOREIGN KEY ("to_agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "payments_to_agent_id_idx" ON "payments" USING btree ("to_agent_id","created_at");--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_kind_check" CHECK ("payments"."kind" in ('pay', 'x402'));--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_party_check" CHECK ("payments"."from_agent_id" is not null or "payments"."to_agent_id" is not null);