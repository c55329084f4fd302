// The worker page (/workers/:id): host beside GPU, processes, hardware, storage, history charts and restarts; every region also renders alone for live updates.
import Html from "@kitajs/html";
import { assetUrl } from "../../static/index.ts";
import { Layout, Notice, type Viewer } from "../layout.tsx";
import { WorkerHardware } from "../partials/worker/hardware.tsx";
import { WorkerHistory, type HistoryProps } from "../partials/worker/history.tsx";
import { gpuChoices, type GpuChoice, type GpuSelection, type WorkerRegionProps } from "../partials/worker/model.ts";
import { WorkerProcesses } from "../partials/worker/processes.tsx";
import { RestartForm, RestartStatus, type RestartFormProps } from "../partials/worker/restarts.tsx";
import { WorkerStatus } from "../partials/worker/status.tsx";
import { WorkerStorage } from "../partials/worker/storage.tsx";
import { WorkerVitals } from "../partials/worker/vitals.tsx";

export interface WorkerPageProps extends WorkerRegionProps {
  viewer: Viewer;
  /** Static host facts the agent reported (CPU model, OS, kernel). */
  info: Record<string, unknown>;
  services: readonly string[];
  connected: boolean;
  history: Omit<HistoryProps, "workerId" | "selection" | "thresholds">;
  /** The history range as a query string (`range=6h`, or `since=…&until=…`), kept when switching GPUs. */
  rangeQuery: string;
  notice?: string;
  error?: string;
  /** The restart form's last error and values, when a POST is answered with the page. */
  restartForm?: Pick<RestartFormProps, "error" | "values">;
}

// dashboard.css holds the gauges' styles, shared with the fleet page.
const STYLES = ["uPlot.min.css", "worker.css"];

const fact = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v : null);

function GpuSelector(props: { workerId: number; choices: readonly GpuChoice[]; selection: GpuSelection; rangeQuery: string }): JSX.Element {
  if (props.choices.length === 0) return <></>;
  const href = (gpu: string) => `/workers/${props.workerId}?gpu=${gpu}${props.rangeQuery ? `&${props.rangeQuery}` : ""}`;
  const sel = props.selection;
  return (
    <nav class="gpu-selector" aria-label="GPU">
      <ul>
        {props.choices.map((c) => {
          const current = sel.kind === "one" && sel.index === c.index;
          return (
            <li>
              <a
                href={href(String(c.index))}
                role="button"
                class={current ? "" : "outline secondary"}
                aria-current={current ? "page" : undefined}
                title={`GPU ${c.index}: ${c.name}`}
                safe
              >
                {`GPU ${c.index}`}
              </a>
            </li>
          );
        })}
        {props.choices.length > 1 ? (
          <li>
            <a
              href={href("all")}
              role="button"
              class={sel.kind === "all" ? "" : "outline secondary"}
              aria-current={sel.kind === "all" ? "page" : undefined}
              title="Every GPU side by side"
            >
              Compare all
            </a>
          </li>
        ) : (
          ""
        )}
      </ul>
    </nav>
  );
}

export function WorkerPage(props: WorkerPageProps): JSX.Element {
  const w = props.worker;
  const facts = [w.hostname, fact(props.info.cpuModel), fact(props.info.os), fact(props.info.kernel)].filter((x): x is string => !!x);
  return (
    <Layout title={w.name} viewer={props.viewer} styles={STYLES.map((name) => assetUrl(name))}>
      <div class="worker-page" data-worker={String(w.id)}>
        <nav aria-label="Breadcrumb">
          <ul>
            <li>
              <a href="/">Fleet</a>
            </li>
            <li safe>{w.name}</li>
          </ul>
        </nav>
        <hgroup>
          <h1 safe>{w.name}</h1>
          <p safe>{facts.join(" · ")}</p>
        </hgroup>
        <Notice kind="ok" text={props.notice} />
        <Notice kind="error" text={props.error} />
        <WorkerStatus {...props} />
        <GpuSelector
          workerId={w.id}
          choices={gpuChoices(props.sample, props.gpus)}
          selection={props.selection}
          rangeQuery={props.rangeQuery}
        />
        <WorkerVitals {...props} />
        <div class={props.selection.kind === "all" ? "worker-panels stacked" : "worker-panels"}>
          <WorkerProcesses {...props} />
          <WorkerHardware {...props} />
        </div>
        <WorkerStorage {...props} />
        <WorkerHistory workerId={w.id} selection={props.selection} thresholds={props.thresholds} {...props.history} />
        <div class="worker-restarts">
          {props.viewer.role === "admin" ? (
            <RestartForm workerId={w.id} services={props.services} connected={props.connected} {...props.restartForm} />
          ) : (
            ""
          )}
          <RestartStatus restarts={props.restarts} now={props.now} />
        </div>
        <p class="vital-detail">
          The same data as JSON: <a href={`/api/v1/workers/${w.id}`} safe>{`/api/v1/workers/${w.id}`}</a>
        </p>
      </div>
      <script src={assetUrl("uPlot.min.js")} defer></script>
      <script src={assetUrl("charts.js")} defer></script>
    </Layout>
  );
}
