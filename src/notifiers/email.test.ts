import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readMail, startSmtpSink, type SmtpSink } from "../../test/fixtures/smtp-sink.ts";
import { HOSTILE_WORKER, hostileNotification, localContext, sampleNotification } from "../../test/notifiers/harness.ts";
import { checkHost, STRICT_POLICY } from "../net/outbound.ts";
import { email } from "./email.ts";
import { DeliveryError } from "./notifier.ts";
import { validateConfig } from "./registry.ts";

let sink: SmtpSink;
let authSink: SmtpSink;
beforeAll(async () => {
  sink = await startSmtpSink();
  authSink = await startSmtpSink({ user: "vigil", password: "hunter2" });
});
afterAll(async () => {
  await sink.stop();
  await authSink.stop();
});
beforeEach(() => {
  sink.mails.length = 0;
  sink.rejectWith = null;
});

const config = () => ({
  host: "127.0.0.1",
  port: sink.port,
  security: "none" as const,
  from: "Vigil <vigil@example.com>",
  to: ["oncall@example.com"],
});

async function failure(work: Promise<unknown>): Promise<DeliveryError> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(err)}`);
  return err;
}

describe("email channel", () => {
  test("delivers From, To, Subject, a text part and an HTML part", async () => {
    const n = sampleNotification();
    await email.send({ ...config(), to: ["oncall@example.com", "lead@example.com"] }, n, localContext());
    expect(sink.mails).toHaveLength(1);
    const mail = sink.mails[0]!;
    expect(mail.envelope).toEqual({ from: "vigil@example.com", to: ["oncall@example.com", "lead@example.com"] });
    const { headers, text, html } = readMail(mail.raw);
    expect(headers.get("from")).toBe("Vigil <vigil@example.com>");
    expect(headers.get("to")).toBe("oncall@example.com, lead@example.com");
    expect(headers.get("subject")).toBe(n.title);
    expect(headers.get("x-vigil-event")).toBe("firing");
    expect(headers.get("x-vigil-delivery")).toBe(n.id);
    expect(text).toContain("GPU temperature on gpu-07 GPU 3 is firing.\nValue: 88 °C, critical level 85 °C.");
    expect(html).toContain('<a href="https://vigil.example.com/alerts#alert-42">View the alert in Vigil</a>');
  });

  test("a hostile worker name arrives escaped in the HTML part", async () => {
    await email.send(config(), hostileNotification(), localContext());
    const { headers, text, html } = readMail(sink.mails[0]!.raw);
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("&amp; &lt;!channel&gt;");
    // The plain-text part and the subject carry the name as it is: nothing there renders markup.
    expect(text).toContain(HOSTILE_WORKER);
    expect(headers.get("subject")).toContain(HOSTILE_WORKER);
  });

  test("logs in when a user is set", async () => {
    await email.send({ ...config(), port: authSink.port, user: "vigil", password: "hunter2" }, sampleNotification(), localContext());
    expect(authSink.mails.at(-1)?.user).toBe("vigil");
  });

  test("a wrong password is final", async () => {
    const err = await failure(
      email.send({ ...config(), port: authSink.port, user: "vigil", password: "wrong" }, sampleNotification(), localContext()),
    );
    expect(err.retryable).toBe(false);
    expect(err.message).toStartWith(`SMTP 127.0.0.1:${authSink.port}: `);
    expect(err.message).toContain("535");
    expect(err.message).not.toContain("wrong");
  });

  test("a 5xx reply is final, a 4xx reply retryable", async () => {
    sink.rejectWith = 550;
    const permanent = await failure(email.send(config(), sampleNotification(), localContext()));
    expect(permanent.retryable).toBe(false);
    expect(permanent.status).toBe(550);
    sink.rejectWith = 451;
    const transient = await failure(email.send(config(), sampleNotification(), localContext()));
    expect(transient.retryable).toBe(true);
    expect(transient.status).toBe(451);
  });

  test("starttls against a server without STARTTLS fails, and is final (a setting to fix)", async () => {
    const err = await failure(email.send({ ...config(), security: "starttls" }, sampleNotification(), localContext()));
    expect(err.retryable).toBe(false);
    expect(sink.mails).toHaveLength(0);
  });

  test("a closed port is retryable", async () => {
    const gone = await startSmtpSink();
    const port = gone.port;
    await gone.stop();
    const err = await failure(email.send({ ...config(), port }, sampleNotification(), localContext()));
    expect(err.retryable).toBe(true);
  });

  test("the host goes through the outbound guard before any connection", async () => {
    const strict = { ...localContext(), checkHost: async (host: string) => void (await checkHost(host, STRICT_POLICY)) };
    const err = await failure(email.send(config(), sampleNotification(), strict));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("VIGIL_OUTBOUND_ALLOW=127.0.0.0/8");
    expect(sink.mails).toHaveLength(0);
  });

  test("config validation", () => {
    expect(validateConfig("email", config())).toEqual([]);
    expect(validateConfig("email", { host: "smtp.example.com", from: "vigil@example.com", to: [] })).toEqual([
      "to: expected array length to be greater or equal to 1",
    ]);
    expect(validateConfig("email", { ...config(), security: "ssl", to: ["not an address"] })).toEqual([
      'security must be one of "starttls", "tls", "none"',
      expect.stringMatching(/^to\[0\] must match /),
    ]);
  });
});
