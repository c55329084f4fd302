// The API tokens page (admins): tokens by name, role and last use; create one (shown once) or revoke it.
import Html from "@kitajs/html";
import type { TokenInfo } from "../../src/auth/tokens.ts";
import { formatAgo } from "../components/format.ts";
import { Layout, Notice, type Viewer } from "../layout.tsx";

export function TokensPage(props: {
  viewer: Viewer;
  tokens: TokenInfo[];
  error?: string;
  notice?: string;
  created?: { name: string; token: string };
}): JSX.Element {
  return (
    <Layout title="API tokens" viewer={props.viewer}>
      <h1>API tokens</h1>
      <Notice kind="error" text={props.error} />
      <Notice kind="ok" text={props.notice} />
      {props.created ? (
        <article class="notice notice-ok">
          <p safe>{`Token ${props.created.name}, shown once; copy it now:`}</p>
          <p class="secret" safe>
            {props.created.token}
          </p>
          <p>
            Use it as <code>curl -H "Authorization: Bearer TOKEN" http://HEAD:8480/api/v1/workers</code>
          </p>
        </article>
      ) : (
        ""
      )}
      <figure>
        <table class="list striped">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Starts with</th>
              <th>Status</th>
              <th>Expires</th>
              <th>Last used</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {props.tokens.map((t) => {
              const expires = t.expiresAt ? t.expiresAt.slice(0, 16).replace("T", " ") : "never";
              const lastUsed = t.lastUsedAt ? `${formatAgo(t.lastUsedAt)} from ${t.lastUsedIp ?? "?"}` : "never";
              return (
                <tr>
                  <td class="text" safe>
                    {t.name}
                  </td>
                  <td>{t.role}</td>
                  <td>
                    <code safe>{`${t.prefix}…`}</code>
                  </td>
                  <td>{t.status}</td>
                  <td safe>{expires}</td>
                  <td safe>{lastUsed}</td>
                  <td>
                    {t.status === "active" && (
                      <form method="post" action={`/admin/tokens/${t.id}/revoke`} class="inline">
                        <button type="submit" class="outline contrast">
                          Revoke
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </figure>
      <article>
        <h2>Create a token</h2>
        <form method="post" action="/admin/tokens">
          <div class="grid">
            <label>
              Name (what uses it)
              <input name="name" required placeholder="grafana, ci-bot, …" />
            </label>
            <label>
              Role
              <select name="role">
                <option value="viewer">viewer</option>
                <option value="admin">admin</option>
              </select>
            </label>
            <label>
              Expires in days (empty: never)
              <input name="expiresDays" type="number" min="1" max="3650" />
            </label>
          </div>
          <button type="submit">Create token</button>
        </form>
      </article>
    </Layout>
  );
}
