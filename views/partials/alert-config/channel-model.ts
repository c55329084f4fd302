// A channel's config as form fields: each notifier's schema as a schema form (views/components/schema-form.ts), its secrets masked.
import { isChannelKind, NOTIFIERS, notifierOf, SECRET_MASK } from "../../../src/notifiers/registry.ts";
import * as schemaForm from "../../components/schema-form.ts";

/** Every kind's fields, in the registry's order (the order the form offers them). */
export const CHANNEL_FORMS: readonly schemaForm.KindForm[] = NOTIFIERS.map((n) =>
  schemaForm.kindForm(n.kind, n.label, n.schema, n.secrets),
);

export function channelForm(kind: string): schemaForm.KindForm | undefined {
  return CHANNEL_FORMS.find((f) => f.kind === kind);
}

export function kindLabel(kind: string): string {
  return isChannelKind(kind) ? notifierOf(kind).label : kind;
}

/** Form text per field name for a masked config (publicChannel's). */
export function configToForm(kind: string, config: Record<string, unknown>): Record<string, string> {
  return schemaForm.configToForm(channelForm(kind), config);
}

/** The config a channel form describes, for the chosen kind only. */
export function configFromForm(kind: string, form: (name: string) => string): Record<string, unknown> {
  return schemaForm.configFromForm(channelForm(kind), form);
}

/** Whether any secret field of the kind was typed into (a new channel's form does not show secrets back after an error). */
export function typedSecrets(kind: string, form: (name: string) => string): boolean {
  return schemaForm.typedSecrets(channelForm(kind), form, SECRET_MASK);
}

export { SECRET_MASK };
