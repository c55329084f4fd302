CREATE TABLE "check_results" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"service_id" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"latency_ms" real,
	"message" text DEFAULT '' NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "preflight_overrides" (
	"id" serial PRIMARY KEY NOT NULL,
	"check" text NOT NULL,
	"reason" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"cancelled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"worker_id" integer,
	"interval_seconds" integer DEFAULT 30 NOT NULL,
	"timeout_seconds" integer DEFAULT 10 NOT NULL,
	"degraded_latency_ms" integer,
	"critical" boolean DEFAULT false NOT NULL,
	"escalation_seconds" integer DEFAULT 300 NOT NULL,
	"required_files" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"log_source" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"source" text DEFAULT 'ui' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "uptime_windows" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"service_id" integer NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"message" text DEFAULT '' NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"first_result_id" bigint
);
--> statement-breakpoint
ALTER TABLE "alerts" ALTER COLUMN "worker_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "service_id" integer;--> statement-breakpoint
ALTER TABLE "check_results" ADD CONSTRAINT "check_results_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_worker_id_workers_id_fk" FOREIGN KEY ("worker_id") REFERENCES "public"."workers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "uptime_windows" ADD CONSTRAINT "uptime_windows_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "check_results_service_at_idx" ON "check_results" USING btree ("service_id","at");--> statement-breakpoint
CREATE INDEX "preflight_overrides_check_idx" ON "preflight_overrides" USING btree ("check","expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "services_name_key" ON "services" USING btree ("name");--> statement-breakpoint
CREATE INDEX "uptime_windows_service_idx" ON "uptime_windows" USING btree ("service_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "uptime_windows_open_key" ON "uptime_windows" USING btree ("service_id") WHERE ended_at is null;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Vigil checks itself from the first start: the head, its database and its live bus (critical for pre-flight), and whether notifications can go out.
INSERT INTO "services" ("name", "kind", "config", "critical", "degraded_latency_ms", "updated_by") VALUES
	('Vigil head', 'vigil', '{}', true, NULL, 'system'),
	('Database', 'database', '{}', true, 250, 'system'),
	('Live event bus', 'bus', '{}', false, 500, 'system'),
	('Notification channels', 'channels', '{}', false, NULL, 'system');
