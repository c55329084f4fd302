// The worker page's status line (a live region): online or "offline since …", last sample, GPU source and why GPUs are missing.
import Html from "@kitajs/html";
import { formatAgo, formatDuration } from "../../components/format.ts";
import { formatTime, isLive, type WorkerRegionProps } from "./model.ts";

const STATUS_TEXT = { online: "online", stale: "stale", offline: "offline", "never-seen": "never seen" } as const;

export function WorkerStatus(props: WorkerRegionProps): JSX.Element {
  const { worker, sample, now } = props;
  const seen = worker.lastSeenAt;
  return (
    <section id="worker-status" class="worker-status" aria-live="polite">
      <p class="worker-facts">
        <span class={`status status-${worker.status}`}>{STATUS_TEXT[worker.status]}</span>
        {" · "}
        <span>
          last sample{" "}
          <time datetime={seen ?? ""} title={formatTime(seen)} safe>
            {formatAgo(seen, now)}
          </time>
        </span>
        {sample ? (
          <>
            {" · "}
            <span safe>{`up ${formatDuration(sample.host.uptimeSeconds)}`}</span>
            {" · "}
            <span safe>{`GPUs via ${sample.gpuSource}`}</span>
          </>
        ) : (
          ""
        )}
        {" · "}
        <span safe>{worker.kind === "local" ? "the head's own machine" : `agent every ${worker.intervalSeconds}s`}</span>
      </p>
      {!isLive(worker) ? (
        <p class="worker-banner level-warning" role="alert" safe>
          {worker.status === "never-seen"
            ? "No sample has arrived from this worker yet: is its agent installed and running?"
            : `${worker.status === "offline" ? "Offline" : "Not heard from"} since ${formatTime(seen)} (${formatAgo(seen, now)}): the figures below are from that last sample, not live.`}
        </p>
      ) : (
        ""
      )}
      {sample?.gpuError ? (
        <p class="worker-banner level-unknown" safe>
          {`No GPU data: ${sample.gpuError}`}
        </p>
      ) : (
        ""
      )}
      {sample?.gpuNotice ? (
        <p class="worker-banner level-warning" safe>
          {sample.gpuNotice}
        </p>
      ) : (
        ""
      )}
    </section>
  );
}
