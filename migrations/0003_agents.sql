CREATE TABLE "restarts" (
	"id" serial PRIMARY KEY NOT NULL,
	"worker_id" integer NOT NULL,
	"service" text NOT NULL,
	"reason" text,
	"force" boolean DEFAULT false NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"state" text DEFAULT 'initiated' NOT NULL,
	"message" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"events" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "enrollment_hash" text;--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "enrollment_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "secret_hash" text;--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "enrolled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "machine_id" text;--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "workers" ADD COLUMN "agent_version" text;--> statement-breakpoint
ALTER TABLE "restarts" ADD CONSTRAINT "restarts_worker_id_workers_id_fk" FOREIGN KEY ("worker_id") REFERENCES "public"."workers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "restarts_worker_idx" ON "restarts" USING btree ("worker_id","requested_at");--> statement-breakpoint
CREATE UNIQUE INDEX "workers_secret_key" ON "workers" USING btree ("secret_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "workers_enrollment_key" ON "workers" USING btree ("enrollment_hash");