// The change-password page every signed-in user has.
import Html from "@kitajs/html";
import { Layout, Notice, type Viewer } from "../layout.tsx";

export function PasswordPage(props: { viewer: Viewer; error?: string; notice?: string }): JSX.Element {
  return (
    <Layout title="Change password" viewer={props.viewer}>
      <article class="narrow">
        <h1>Change password</h1>
        <Notice kind="error" text={props.error} />
        <Notice kind="ok" text={props.notice} />
        <form method="post" action="/account/password">
          <label>
            Current password
            <input name="current" type="password" autocomplete="current-password" required />
          </label>
          <label>
            New password (at least 8 characters)
            <input name="password" type="password" autocomplete="new-password" required minlength="8" />
          </label>
          <label>
            New password again
            <input name="confirm" type="password" autocomplete="new-password" required minlength="8" />
          </label>
          <button type="submit">Change password</button>
        </form>
        <small>Changing it signs you out everywhere else.</small>
      </article>
    </Layout>
  );
}
