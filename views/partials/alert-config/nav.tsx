// The sub-navigation shared by the alerting pages: Alerts · Thresholds · Channels.
import Html from "@kitajs/html";

const LINKS = [
  { href: "/alerts", label: "Alerts" },
  { href: "/alerts/thresholds", label: "Thresholds" },
  { href: "/alerts/channels", label: "Channels" },
] as const;

/** `current` is the page's own link, marked for screen readers and styled as the one you are on. */
export function AlertsNav(props: { current: (typeof LINKS)[number]["href"] }): JSX.Element {
  return (
    <nav class="alerts-nav" aria-label="Alerting">
      <ul>
        {LINKS.map((l) => (
          <li>
            <a href={l.href} aria-current={l.href === props.current ? "page" : undefined}>
              {l.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
