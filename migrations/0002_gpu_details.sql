ALTER TABLE "gpus" ADD COLUMN "pci_bus_id" text;--> statement-breakpoint
ALTER TABLE "gpus" ADD COLUMN "serial" text;--> statement-breakpoint
ALTER TABLE "gpus" ADD COLUMN "compute_capability" text;--> statement-breakpoint
ALTER TABLE "gpus" ADD COLUMN "mig_mode" boolean;--> statement-breakpoint
ALTER TABLE "gpus" ADD COLUMN "power_limit_default_w" real;--> statement-breakpoint
ALTER TABLE "gpus" ADD COLUMN "max_sm_clock_mhz" integer;--> statement-breakpoint
ALTER TABLE "gpus" ADD COLUMN "max_memory_clock_mhz" integer;--> statement-breakpoint
ALTER TABLE "gpus" ADD COLUMN "max_graphics_clock_mhz" integer;--> statement-breakpoint
ALTER TABLE "gpu_samples" ADD COLUMN "memory_temperature" smallint;--> statement-breakpoint
ALTER TABLE "gpu_samples" ADD COLUMN "graphics_clock_mhz" integer;--> statement-breakpoint
ALTER TABLE "gpu_samples" ADD COLUMN "fan_speeds" smallint[];--> statement-breakpoint
ALTER TABLE "gpu_samples" ADD COLUMN "pcie_link_gen" smallint;--> statement-breakpoint
ALTER TABLE "gpu_samples" ADD COLUMN "pcie_link_width" smallint;--> statement-breakpoint
ALTER TABLE "gpu_samples" ADD COLUMN "lost" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "host_samples" ADD COLUMN "cpu_per_core" real[];--> statement-breakpoint
ALTER TABLE "host_samples" ADD COLUMN "cpu_temperature" real;--> statement-breakpoint
ALTER TABLE "host_samples" ADD COLUMN "docker_data_bytes" bigint;