// Roles and route access rules: who may call what, in one vocabulary for routes, tokens and users.
export const ROLES = ["admin", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route requires. `public`: anyone (health, login, static files). `viewer`: any signed-in
 * user or token. `admin`: changes, restarts, overrides. `agent`: a worker's agent with its own
 * secret (pushing samples), and nobody else.
 */
export const ACCESS_RULES = ["public", "viewer", "admin", "agent"] as const;
export type Access = (typeof ACCESS_RULES)[number];

export function isRole(v: unknown): v is Role {
  return typeof v === "string" && (ROLES as readonly string[]).includes(v);
}

export function roleAllows(role: Role, rule: Access): boolean {
  if (rule === "public") return true;
  if (rule === "viewer") return true;
  if (rule === "agent") return false;
  return role === "admin";
}
