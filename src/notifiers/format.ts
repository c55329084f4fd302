// Small text helpers the channels share: the alert's link, the event in words, and length limits.
import type { AlertNotification, NotificationEvent } from "../alerts/notification.ts";

/** The alert's link when it is absolute (VIGIL_PUBLIC_URL set); a bare path means nothing in a chat message or mail. */
export function absoluteAlertUrl(n: AlertNotification): string | null {
  return /^https?:\/\//i.test(n.alert.url) ? n.alert.url : null;
}

const EVENT_WORDS: Record<NotificationEvent, string> = {
  firing: "firing",
  escalated: "escalated",
  deescalated: "de-escalated",
  repeat: "still firing",
  escalation: "escalated to the next tier",
  resolved: "resolved",
  test: "test",
};

/** The event in the operator's words: "still firing" rather than "repeat". */
export function eventInWords(event: NotificationEvent): string {
  return EVENT_WORDS[event];
}

/** Cuts `text` to `max` characters with an ellipsis; services reject or drop messages over their limits. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  // Never leave half a surrogate pair (an emoji) at the end.
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}
