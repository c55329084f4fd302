// Turns the request's principal into what page templates need to know about the person looking.
import type { Principal } from "../auth/principal.ts";
import type { Viewer } from "../../views/layout.tsx";

export function viewerOf(principal: Principal | null): Viewer {
  if (!principal || principal.kind === "agent") throw new Error("a page with access 'viewer' or 'admin' was reached without a user");
  return { name: principal.name, role: principal.role };
}
