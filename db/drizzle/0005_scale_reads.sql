CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
ALTER TABLE "market_agents" ADD COLUMN "reputation" jsonb;--> statement-breakpoint
ALTER TABLE "market_agents" ADD COLUMN "score" double precision DEFAULT 50 NOT NULL;--> statement-breakpoint
ALTER TABLE "market_agents" ADD COLUMN "rating" double precision DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "market_agents" ADD COLUMN "earned" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "market_agents" ADD COLUMN "reputation_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "market_offerings" ADD COLUMN "active" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "market_offerings" ADD COLUMN "search_text" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "market_offerings" ADD COLUMN "score" double precision DEFAULT 50 NOT NULL;--> statement-breakpoint
ALTER TABLE "market_offerings" ADD COLUMN "rating" double precision DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "market_offerings" ADD COLUMN "earned" numeric(78, 0) DEFAULT '0' NOT NULL;--> statement-breakpoint
UPDATE "market_offerings" SET "active" = "market_agents"."active", "search_text" = lower("market_offerings"."name" || E'\n' || "market_offerings"."description" || E'\n' || "market_agents"."name") FROM "market_agents" WHERE "market_agents"."chain_agent_id" = "market_offerings"."chain_agent_id";--> statement-breakpoint
CREATE INDEX "agents_created_at_idx" ON "agents" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "market_agents_wallet_idx" ON "market_agents" USING btree ("wallet");--> statement-breakpoint
CREATE INDEX "market_offerings_rank_idx" ON "market_offerings" USING btree ("score" DESC NULLS FIRST,"earned" DESC NULLS FIRST,"price","id") WHERE "market_offerings"."active";--> statement-breakpoint
CREATE INDEX "market_offerings_price_idx" ON "market_offerings" USING btree ("price","id") WHERE "market_offerings"."active";--> statement-breakpoint
CREATE INDEX "market_offerings_search_text_idx" ON "market_offerings" USING gin ("search_text" gin_trgm_ops);