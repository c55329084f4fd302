// The e-mail channel: one message per notification over SMTP (nodemailer), plain text plus an HTML part with names escaped.
import { escapeHtml } from "@kitajs/html";
import { Type } from "@sinclair/typebox";
import nodemailer from "nodemailer";
import type { AlertNotification } from "../alerts/notification.ts";
import { absoluteAlertUrl, eventInWords } from "./format.ts";
import { deliveryErrorOf } from "./http.ts";
import { DeliveryError, type Notifier } from "./notifier.ts";

const ADDRESS = "[^\\s@<>,;]+@[^\\s@<>,;]+";

export const emailSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: "The SMTP server (your relay or provider).", examples: ["smtp.example.com"] }),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 465 with security "tls", 587 otherwise.', examples: [587] }),
    ),
    security: Type.Optional(
      Type.Union([Type.Literal("starttls"), Type.Literal("tls"), Type.Literal("none")], {
        description:
          '"starttls" (default): connect in clear and require the STARTTLS upgrade, usually port 587. "tls": TLS from the first byte, usually port 465. ' +
          '"none": never encrypt, for a relay on the same machine or network only (the password would travel in clear).',
      }),
    ),
    user: Type.Optional(Type.String({ minLength: 1, description: "SMTP user name, when the server wants a login." })),
    password: Type.Optional(Type.String({ minLength: 1, description: "SMTP password (or app password)." })),
    from: Type.String({
      pattern: `^([^\\r\\n<>]*<${ADDRESS}>|${ADDRESS})$`,
      description: 'The sender, as the server allows it: an address or "Name <address>".',
      examples: ["Vigil <vigil@example.com>"],
    }),
    to: Type.Array(Type.String({ pattern: `^${ADDRESS}$` }), {
      minItems: 1,
      maxItems: 50,
      description: "Recipients, one address each.",
      examples: [["oncall@example.com"]],
    }),
  },
  { additionalProperties: false },
);

type EmailConfig = (typeof emailSchema)["static"];

/** The message: subject, plain text, and HTML in which every agent-supplied string is escaped. */
export function emailMessage(n: AlertNotification): { subject: string; text: string; html: string } {
  const url = absoluteAlertUrl(n);
  // A subject is one header line; a newline in a name must not start a header of its own.
  const subject = n.title.replace(/[\r\n]+/g, " ");
  const footer = `Vigil · ${eventInWords(n.event)} · ${n.at}`;
  const text = `${n.text}\n${url && !n.text.includes(url) ? `\n${url}\n` : ""}\n-- \n${footer}\n`;
  const colour = n.event === "resolved" ? "#30a46c" : n.severity === "critical" ? "#e5484d" : "#f5a524";
  const html = [
    "<!doctype html>",
    '<html><body style="font-family: system-ui, sans-serif; line-height: 1.4">',
    `<h2 style="border-left: 4px solid ${colour}; padding-left: 8px">${escapeHtml(subject)}</h2>`,
    `<pre style="font-family: inherit; white-space: pre-wrap">${escapeHtml(n.text)}</pre>`,
    url ? `<p><a href="${escapeHtml(url)}">View the alert in Vigil</a></p>` : "",
    `<p style="color: #666; font-size: 0.9em">${escapeHtml(footer)}</p>`,
    "</body></html>",
  ].join("\n");
  return { subject, text, html };
}

/** Nodemailer codes for failures that will happen again the same way: wrong login, bad addresses, TLS not on offer. */
const PERMANENT_CODES = new Set(["EAUTH", "ENOAUTH", "ECONFIG", "EENVELOPE", "EMESSAGE", "ETLS", "EREQUIRETLS"]);

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  permanent?: boolean;
}

/** An SMTP failure as a DeliveryError: 5xx replies and configuration mistakes are final, 4xx and network trouble are worth retrying. */
export function smtpDeliveryError(err: SmtpError, where: string): DeliveryError {
  const retryable = err.permanent !== undefined ? !err.permanent : !PERMANENT_CODES.has(err.code ?? "");
  const code = err.code && !err.message.includes(err.code) ? ` (${err.code})` : "";
  return new DeliveryError(`${where}: ${err.message}${code}`, {
    retryable,
    ...(err.responseCode !== undefined ? { status: err.responseCode } : {}),
    cause: err,
  });
}

export const email: Notifier<typeof emailSchema> = {
  kind: "email",
  label: "E-mail (SMTP)",
  schema: emailSchema,
  secrets: ["password"],
  async send(config: EmailConfig, n, ctx) {
    const security = config.security ?? "starttls";
    const port = config.port ?? (security === "tls" ? 465 : 587);
    const where = `SMTP ${config.host}:${port}`;
    // fetch is not involved, so the host goes through the outbound guard here. nodemailer resolves
    // the name again when it connects: the same DNS-rebinding window as outboundFetch has.
    try {
      await ctx.checkHost(config.host);
    } catch (err) {
      throw deliveryErrorOf(err, where);
    }
    const transport = nodemailer.createTransport({
      host: config.host,
      port,
      secure: security === "tls",
      requireTLS: security === "starttls",
      ignoreTLS: security === "none",
      ...(config.user ? { auth: { user: config.user, pass: config.password ?? "" } } : {}),
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
      dnsTimeout: ctx.timeoutMs,
      // Nothing in an alert mail should make nodemailer read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    const message = emailMessage(n);
    try {
      await transport.sendMail({
        from: config.from,
        to: config.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: { "X-Vigil-Event": n.event, "X-Vigil-Delivery": n.id },
      });
    } catch (err) {
      throw smtpDeliveryError(err as SmtpError, where);
    } finally {
      transport.close();
    }
  },
};
