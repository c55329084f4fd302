// The dashboard channel: the in-app alert list. Sending does nothing, because the list reads the alert table itself.
import { Type } from "@sinclair/typebox";
import type { Notifier } from "./notifier.ts";

export const dashboardSchema = Type.Object(
  {},
  { additionalProperties: false, description: "No settings: alerts always show on the dashboard." },
);

/**
 * A channel so that routing rules can name "the dashboard" like any other destination, and the
 * delivery log shows it; but there is nothing to deliver. The dashboard renders alerts straight
 * from the alert table (the source of truth, which also knows acknowledgements and resolutions),
 * so keeping a second copy per notification would only give it something to disagree with.
 */
export const dashboard: Notifier<typeof dashboardSchema> = {
  kind: "dashboard",
  label: "Dashboard",
  schema: dashboardSchema,
  secrets: [],
  async send() {},
};
