// GET /static/:name: the vendored browser files embedded in the binary, cached hard (names change with versions).
import { Elysia } from "elysia";
import { STATIC_ASSETS } from "../../static/index.ts";
import { VERSION } from "../version.ts";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";

export function staticRoutes(ctx: HeadContext) {
  return new Elysia({ name: "static" }).use(guard(ctx)).get(
    "/static/:name",
    ({ params, set, headers }) => {
      const asset = STATIC_ASSETS[params.name];
      if (!asset) {
        set.status = 404;
        return "not found";
      }
      const etag = `"${VERSION}-${params.name}"`;
      if (headers["if-none-match"] === etag) {
        set.status = 304;
        return "";
      }
      return new Response(Bun.file(asset.file), {
        headers: { "content-type": asset.type, etag, "cache-control": "public, max-age=3600" },
      });
    },
    { access: "public", detail: hidden() },
  );
}
