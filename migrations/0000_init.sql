CREATE TABLE "gpus" (
	"id" serial PRIMARY KEY NOT NULL,
	"worker_id" integer NOT NULL,
	"index" integer NOT NULL,
	"uuid" text NOT NULL,
	"name" text NOT NULL,
	"memory_total_mib" integer,
	"driver_version" text,
	"cuda_version" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "workers" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text DEFAULT 'remote' NOT NULL,
	"hostname" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone,
	"last_seq" bigint,
	"interval_seconds" integer DEFAULT 1 NOT NULL,
	"info" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gpu_samples" (
	"gpu_id" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"worker_id" integer NOT NULL,
	"utilization" smallint,
	"memory_utilization" smallint,
	"memory_used_mib" integer,
	"memory_total_mib" integer,
	"temperature" smallint,
	"power_w" real,
	"power_limit_w" real,
	"fan_speed" smallint,
	"sm_clock_mhz" integer,
	"memory_clock_mhz" integer,
	"pcie_tx_kbps" real,
	"pcie_rx_kbps" real,
	"encoder_utilization" smallint,
	"decoder_utilization" smallint,
	"pstate" smallint,
	"throttle_reasons" text[],
	"ecc_corrected" bigint,
	"ecc_uncorrected" bigint,
	"processes" jsonb,
	CONSTRAINT "gpu_samples_gpu_id_ts_pk" PRIMARY KEY("gpu_id","ts")
);
--> statement-breakpoint
CREATE TABLE "host_samples" (
	"worker_id" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"seq" bigint NOT NULL,
	"cpu_percent" real,
	"load1" real,
	"load5" real,
	"load15" real,
	"memory_used" bigint,
	"memory_total" bigint,
	"swap_used" bigint,
	"swap_total" bigint,
	"uptime_seconds" bigint,
	"disk_read_bps" real,
	"disk_write_bps" real,
	"net_rx_bps" real,
	"net_tx_bps" real,
	"disks" jsonb,
	"gpu_source" text DEFAULT 'none' NOT NULL,
	"gpu_error" text,
	CONSTRAINT "host_samples_worker_id_ts_pk" PRIMARY KEY("worker_id","ts")
);
--> statement-breakpoint
ALTER TABLE "gpus" ADD CONSTRAINT "gpus_worker_id_workers_id_fk" FOREIGN KEY ("worker_id") REFERENCES "public"."workers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gpu_samples" ADD CONSTRAINT "gpu_samples_gpu_id_gpus_id_fk" FOREIGN KEY ("gpu_id") REFERENCES "public"."gpus"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_samples" ADD CONSTRAINT "host_samples_worker_id_workers_id_fk" FOREIGN KEY ("worker_id") REFERENCES "public"."workers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "gpus_worker_uuid_key" ON "gpus" USING btree ("worker_id","uuid");--> statement-breakpoint
CREATE UNIQUE INDEX "workers_name_key" ON "workers" USING btree ("name");--> statement-breakpoint
CREATE INDEX "gpu_samples_worker_ts_idx" ON "gpu_samples" USING btree ("worker_id","ts");