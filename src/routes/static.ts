// GET /static/:name: the vendored browser files embedded in the binary, cached hard (names change with versions).
import { Elysia } from "elysia";
import { assetHash, STATIC_ASSETS } from "../../static/index.ts";
import type { HeadContext } from "../head/context.ts";
import { guard } from "./guard.ts";
import { hidden } from "./openapi.ts";

export function staticRoutes(ctx: HeadContext) {
  return new Elysia({ name: "static" }).use(guard(ctx)).get(
    "/static/:name",
    ({ params, set, headers, request }) => {
      const asset = STATIC_ASSETS[params.name];
      if (!asset) {
        set.status = 404;
        return "not found";
      }
      const hash = assetHash(params.name);
      const etag = `"${hash}"`;
      if (headers["if-none-match"] === etag) {
        set.status = 304;
        return "";
      }
      // Linked as ?v=HASH (assetUrl): that URL never changes content, so browsers may keep it a year.
      const versioned = new URL(request.url).searchParams.get("v") === hash;
      return new Response(Bun.file(asset.file), {
        headers: {
          "content-type": asset.type,
          etag,
          "cache-control": versioned ? "public, max-age=31536000, immutable" : "public, max-age=300",
        },
      });
    },
    { access: "public", detail: hidden() },
  );
}
