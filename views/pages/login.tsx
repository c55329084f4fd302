// The sign-in page: user name and password, with the reason when the last attempt failed or was throttled.
import Html from "@kitajs/html";
import { Layout, Notice } from "../layout.tsx";

export function LoginPage(props: { next: string; name?: string; error?: string; notice?: string }): JSX.Element {
  return (
    <Layout title="Sign in" viewer={null}>
      <article class="narrow centered">
        <h1>Sign in</h1>
        <Notice kind="error" text={props.error} />
        <Notice kind="ok" text={props.notice} />
        <form method="post" action="/login">
          <input type="hidden" name="next" value={props.next} />
          <label>
            User name
            <input name="name" autocomplete="username" required autofocus value={props.name ?? ""} />
          </label>
          <label>
            Password
            <input name="password" type="password" autocomplete="current-password" required />
          </label>
          <button type="submit">Sign in</button>
        </form>
        <small>
          First start? The head printed the <code>admin</code> password once in its log (or used VIGIL_ADMIN_PASSWORD). Lost it? Run{" "}
          <code>vigil user passwd admin</code> on the head.
        </small>
      </article>
    </Layout>
  );
}
