// The settings part of a form built from kinds' schemas (channels, services): the Kind field, and each kind's fieldset of inputs.
import { assetUrl } from "../../static/index.ts";
import Html from "@kitajs/html";
import { ChoiceSelect } from "./choice-select.tsx";
import type { KindForm, SchemaField } from "./schema-form.ts";

/** What a kind's fieldset shows when its schema has no settings. */
export type EmptyKind = (form: KindForm) => JSX.Element;

/** `secretMask`: what a stored secret shows as; a field showing it gets told how to keep or clear the secret. */
function SchemaInput(props: { field: SchemaField; value: string; secretMask?: string }): JSX.Element {
  const f = props.field;
  const v = props.value;
  const mask = props.secretMask;
  const stored = f.secret && mask !== undefined && (v === mask || v.includes(`: ${mask}`));
  const hint = `${f.description}${f.input === "list" ? " Separate several with commas." : ""}${
    f.input === "lines" ? " One per line, as Name: value." : ""
  }${stored ? ` Stored: leave ${mask} to keep it, clear it to remove it.` : ""}`;
  const title = `${f.key}${f.required ? "" : " (optional)"}`;
  if (f.input === "checkbox")
    return (
      <label>
        <input name={f.name} type="checkbox" role="switch" checked={v === "on"} />
        <span safe>{title}</span>
        <small safe>{hint}</small>
      </label>
    );
  let control: JSX.Element;
  if (f.input === "select")
    control = (
      <select name={f.name}>
        {f.required ? "" : <option value="">(default)</option>}
        {f.choices.map((c) => (
          <option value={c} selected={c === v} safe>
            {c}
          </option>
        ))}
      </select>
    );
  else if (f.input === "lines")
    control = (
      <textarea name={f.name} rows="3" placeholder={f.placeholder || undefined} safe>
        {v}
      </textarea>
    );
  else
    control = (
      <input
        name={f.name}
        type={f.input === "list" ? "text" : f.input}
        value={v}
        placeholder={f.placeholder || undefined}
        min={f.min === undefined ? undefined : String(f.min)}
        max={f.max === undefined ? undefined : String(f.max)}
        step={f.input === "number" ? (f.integer ? "1" : "any") : undefined}
        autocomplete={f.secret ? "new-password" : "off"}
      />
    );
  return (
    <label>
      <span safe>{title}</span>
      {control}
      <small safe>{hint}</small>
    </label>
  );
}

/** `values`: form text keyed by field name (`webhook.url`), as configToForm or the posted form gives it. */
function KindFieldset(props: { form: KindForm; values: Record<string, string>; empty: EmptyKind; secretMask?: string }): JSX.Element {
  const k = props.form;
  return (
    <fieldset class="kind-fields" data-kind={k.kind}>
      <legend safe>{`${k.label} settings`}</legend>
      {k.fields.length === 0 ? props.empty(k) : ""}
      {k.fields.map((f) => (
        <SchemaInput field={f} value={props.values[f.name] ?? ""} secretMask={props.secretMask} />
      ))}
    </fieldset>
  );
}

/** The form's Kind: a picker when adding; when editing, the kind's name, fixed (a `noun`'s kind cannot change), and posted as it is. */
export function KindField(props: { forms: readonly KindForm[]; value: string; editing: boolean; noun: string }): JSX.Element {
  const label = props.forms.find((k) => k.kind === props.value)?.label ?? props.value;
  return (
    <label>
      Kind
      {props.editing ? (
        <>
          <input value={label} disabled aria-label={`Kind (a ${props.noun}'s kind cannot change)`} />
          <input type="hidden" name="kind" value={props.value} />
        </>
      ) : (
        <ChoiceSelect name="kind" value={props.value} choices={props.forms.map((k) => ({ value: k.kind, label: k.label }))} />
      )}
    </label>
  );
}

/**
 * The kinds' settings. Adding (`editing` false): every kind's fieldset, of which the picked kind's is used;
 * static/kind-fields.js shows only that one and hides the hint (without script all show, and the hint says
 * which counts). Editing: the kind's own fieldset only.
 */
export function KindSettings(props: {
  forms: readonly KindForm[];
  kind: string;
  editing: boolean;
  values: Record<string, string>;
  empty: EmptyKind;
  secretMask?: string;
}): JSX.Element {
  const kinds = props.editing ? props.forms.filter((k) => k.kind === props.kind) : props.forms;
  return (
    <>
      {props.editing ? "" : <p class="kind-hint">Fill in the settings of the kind you picked; the other kinds' settings are ignored.</p>}
      {props.editing ? "" : <script src={assetUrl("kind-fields.js")} defer></script>}
      {kinds.map((k) => (
        <KindFieldset form={k} values={props.values} empty={props.empty} secretMask={props.secretMask} />
      ))}
    </>
  );
}
