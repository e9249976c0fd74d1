CREATE TABLE "runtime_shards" (
	"shard" integer PRIMARY KEY NOT NULL,
	"url" text,
	"pid" integer NOT NULL,
	"taken_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "runtime_shards_shard_check" CHECK ("runtime_shards"."shard" >= 0)
);
--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "shard" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "agents_shard_idx" ON "agents" USING btree ("shard","created_at","id");