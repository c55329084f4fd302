// The alert engine's series: firing alerts by rule and severity, open alerts by state, and the delivery queue's backlog and outcomes.
import type { MetricsProvider } from "./provider.ts";

export const alertMetrics: MetricsProvider = async ({ ctx }, out) => {
  const names = new Map<string, string>();
  const firing = new Map<string, { labels: Record<string, string>; n: number }>();
  const states = new Map<string, number>([
    ["pending", 0],
    ["firing", 0],
    ["nodata", 0],
  ]);
  for (const a of ctx.alerts.list()) {
    states.set(a.state, (states.get(a.state) ?? 0) + 1);
    if (a.state !== "firing") continue;
    // A service's health alert is about the service, not a machine: `service` names it and `worker`
    // is left out, so a query by worker never counts a service as one.
    const who = `${a.workerId}/${a.serviceId}`;
    let name = names.get(who);
    if (name === undefined) names.set(who, (name = ctx.alerts.subjectName(a)));
    const subject: Record<string, string> = a.serviceId !== null ? { service: name } : { worker: name };
    const key = `${a.serviceId !== null ? "s" : "w"}\0${name}\0${a.rule}\0${a.severity}`;
    const cur = firing.get(key) ?? { labels: { ...subject, rule: a.rule, severity: a.severity }, n: 0 };
    cur.n++;
    firing.set(key, cur);
  }
  const f = out.family(
    "vigil_alerts_firing",
    "gauge",
    "Alerts firing now, by worker (or service, for a service's health), rule and severity (a rule on 3 GPUs of a worker counts 3). Absent when nothing fires.",
  );
  for (const { labels, n } of firing.values()) f.add(labels, n);
  const open = out.family(
    "vigil_alerts_open",
    "gauge",
    "Open alerts by state: pending (waiting out `for`), firing, nodata (worker offline).",
  );
  for (const [state, n] of states) open.add({ state }, n);
  const backlog = await ctx.deliveries.backlog();
  const q = out.family(
    "vigil_alert_deliveries",
    "gauge",
    "Notification deliveries by status: queued (waiting or retrying), failed (gave up).",
  );
  q.add({ status: "queued" }, backlog.queued);
  q.add({ status: "failed" }, backlog.failed);
  const s = ctx.deliveries.stats;
  const attempts = out.family("vigil_alert_delivery_attempts_total", "counter", "Delivery attempts by this head, by outcome.");
  attempts.add({ result: "delivered" }, s.delivered);
  attempts.add({ result: "failed" }, s.failedAttempts);
};
