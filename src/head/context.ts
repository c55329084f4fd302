// What the head's routes and loops share: the database, the ingest path and the latest-state cache.
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { Ingestor } from "../ingest/ingest.ts";
import type { LatestCache } from "../ingest/latest.ts";
import type { BatchedWriter } from "../ingest/writer.ts";

export interface HeadContext {
  config: Readonly<Config>;
  database: Database;
  writer: BatchedWriter;
  latest: LatestCache;
  ingestor: Ingestor;
  startedAt: Date;
}
