// Which loops this head runs: with several heads on one PostgreSQL, exactly one head reports 1 for each loop.
import { LOOP_LOCKS, type LoopName } from "../cluster/leader.ts";
import type { MetricsProvider } from "./provider.ts";

export const clusterMetrics: MetricsProvider = ({ ctx }, out) => {
  const leading = new Set<LoopName>(ctx.cluster.leadership.leading());
  const f = out.family(
    "vigil_loop_leader",
    "gauge",
    "1 when this head runs the loop (alerts, deliveries, retention, health), 0 when another head does. Summed over heads, 1 per loop; 0 for longer than VIGIL_LEADER_RETRY means no head runs it.",
  );
  for (const loop of Object.keys(LOOP_LOCKS) as LoopName[]) f.add({ loop }, leading.has(loop) ? 1 : 0);
};
