import { describe, expect, test } from "bun:test";
import { sampleNotification } from "../../test/notifiers/harness.ts";
import { DeliveryError, type Notifier } from "./notifier.ts";
import {
  buildRegistry,
  CHANNEL_KINDS,
  deliver,
  keepMaskedSecrets,
  maskSecrets,
  NOTIFIERS,
  notifierOf,
  SECRET_MASK,
  validateConfig,
} from "./registry.ts";

describe("registry", () => {
  test("every kind has exactly one notifier, with a label, a described schema and secrets that are fields", () => {
    expect(NOTIFIERS.map((n) => n.kind).sort()).toEqual([...CHANNEL_KINDS].sort());
    for (const n of NOTIFIERS) {
      expect(notifierOf(n.kind)).toBe(n);
      expect(n.label.length).toBeGreaterThan(0);
      for (const [field, schema] of Object.entries(n.schema.properties)) {
        expect({ kind: n.kind, field, described: typeof (schema as { description?: string }).description === "string" }).toEqual({
          kind: n.kind,
          field,
          described: true,
        });
      }
      for (const s of n.secrets) expect(Object.keys(n.schema.properties)).toContain(s);
    }
  });

  test("a duplicate, unexpected or missing kind stops start-up", () => {
    const [first, second] = NOTIFIERS as [Notifier, Notifier];
    expect(() => buildRegistry([first, first], [first.kind])).toThrow(`notification channel kind "${first.kind}" is registered twice`);
    expect(() => buildRegistry([first, second], [first.kind])).toThrow(
      `notification channel kind "${second.kind}" is not one of ${first.kind}`,
    );
    expect(() => buildRegistry([first], [first.kind, "pager"])).toThrow('no notifier registered for channel kind "pager"');
  });

  test("unknown kinds", () => {
    expect(() => notifierOf("pager")).toThrow(
      'unknown notification channel kind "pager" (known: webhook, slack, discord, ntfy, email, dashboard)',
    );
    expect(validateConfig("pager", {})).toEqual([
      'unknown notification channel kind "pager" (known: webhook, slack, discord, ntfy, email, dashboard)',
    ]);
  });

  test("validateConfig gives one readable problem per field", () => {
    expect(validateConfig("slack", { url: "https://hooks.slack.com/services/T/B/X" })).toEqual([]);
    expect(validateConfig("slack", null)).toEqual(["config: expected object"]);
    expect(validateConfig("email", { host: "", port: 70000, from: "v@example.com", to: ["a@example.com"] })).toEqual([
      "host: expected string length greater or equal to 1",
      "port: expected integer to be less or equal to 65535",
    ]);
  });

  test("secrets are masked, unset ones stay unset, and a masked value sent back keeps the stored one", () => {
    const stored = { url: "https://ops.example.com/hook", secret: "s3cret", headers: { Authorization: "Bearer abc", "X-Env": "prod" } };
    const shown = maskSecrets("webhook", stored);
    expect(shown).toEqual({ url: stored.url, secret: SECRET_MASK, headers: { Authorization: SECRET_MASK, "X-Env": SECRET_MASK } });
    expect(maskSecrets("webhook", { url: stored.url })).toEqual({ url: stored.url });
    expect(maskSecrets("slack", { url: "https://hooks.slack.com/services/T/B/X" })).toEqual({ url: SECRET_MASK });

    const edited = { ...shown, url: "https://ops.example.com/new", headers: { Authorization: SECRET_MASK, "X-Env": "staging" } };
    expect(keepMaskedSecrets("webhook", edited, stored)).toEqual({
      url: "https://ops.example.com/new",
      secret: "s3cret",
      headers: { Authorization: "Bearer abc", "X-Env": "staging" },
    });
    const { secret: _, ...withoutSecret } = shown;
    expect(keepMaskedSecrets("webhook", withoutSecret, stored)).not.toHaveProperty("secret");
  });

  test("deliver refuses an invalid stored config with a final DeliveryError", async () => {
    const never = () => Promise.reject(new Error("must not send"));
    const err = await deliver("webhook", { url: "nope" }, sampleNotification(), { fetch: never, checkHost: never, timeoutMs: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).retryable).toBe(false);
    expect((err as DeliveryError).message).toBe("webhook channel config is invalid: url must match ^https?://");
    await deliver("dashboard", {}, sampleNotification(), { fetch: never, checkHost: never, timeoutMs: 1 });
  });
});
