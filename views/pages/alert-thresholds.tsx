// The threshold editor (admins): threshold rules by metric with their overrides, the built-in rules, and the alert settings.
import Html from "@kitajs/html";
import type { ThresholdRow } from "../../src/alerts/store.ts";
import { assetUrl } from "../../static/index.ts";
import { Layout, Notice, type Viewer } from "../layout.tsx";
import {
  AlertSettingsForm,
  BuiltinRules,
  type BuiltinDraft,
  type BuiltinView,
  type SettingsFormValues,
} from "../partials/alert-config/builtins.tsx";
import { AlertsNav } from "../partials/alert-config/nav.tsx";
import { ThresholdAddForm, ThresholdTables, type ThresholdDraft, type WorkerChoice } from "../partials/alert-config/thresholds.tsx";

export interface ThresholdsPageProps {
  viewer: Viewer;
  thresholds: ThresholdRow[];
  builtins: readonly BuiltinView[];
  settings: SettingsFormValues;
  workers: WorkerChoice[];
  notice?: string;
  error?: string;
  /** A rejected form, shown again with what was sent. */
  draft?: { threshold?: ThresholdDraft; builtin?: BuiltinDraft };
  now?: number;
}

export function ThresholdsPage(props: ThresholdsPageProps): JSX.Element {
  const addValues = props.draft?.threshold?.id === null ? props.draft.threshold.values : undefined;
  return (
    <Layout title="Alert thresholds" viewer={props.viewer} styles={[assetUrl("alerts.css")]}>
      <AlertsNav current="/alerts/thresholds" />
      <h1>Alert thresholds</h1>
      <Notice kind="error" text={props.error} />
      <Notice kind="ok" text={props.notice} />
      <section id="thresholds">
        <h2>Threshold rules</h2>
        <p>
          Each metric has a global rule for every worker, and may have overrides for one worker or one GPU.{" "}
          <strong>The most specific rule wins:</strong> a GPU's own rule, else its worker's, else the global one. An alert is warning or
          critical by the highest level the value reaches.
        </p>
        <ThresholdTables rows={props.thresholds} workers={props.workers} draft={props.draft?.threshold} now={props.now} />
      </section>
      <article id="add-threshold">
        <h2>Add a rule or an override</h2>
        <ThresholdAddForm workers={props.workers} values={addValues} />
      </article>
      <section id="builtins">
        <h2>Built-in rules</h2>
        <p>Rules about the state of workers and GPUs rather than a metric's value. They apply to every worker.</p>
        <BuiltinRules rules={props.builtins} draft={props.draft?.builtin} />
      </section>
      <section id="settings">
        <h2>Notification settings</h2>
        <AlertSettingsForm values={props.settings} />
      </section>
    </Layout>
  );
}
