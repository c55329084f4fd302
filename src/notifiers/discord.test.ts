import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { captureServer, hostileNotification, localContext, sampleNotification, type CaptureServer } from "../../test/notifiers/harness.ts";
import { DISCORD_COLOURS, discord, escapeDiscord } from "./discord.ts";
import { DeliveryError } from "./notifier.ts";

let server: CaptureServer;
beforeAll(() => {
  server = captureServer();
});
afterAll(() => server.stop());
beforeEach(() => {
  server.received.length = 0;
  // Discord answers 204 No Content unless ?wait=true.
  server.respond = () => new Response(null, { status: 204 });
});

describe("discord channel", () => {
  test("posts one embed coloured by severity, with mentions switched off", async () => {
    const n = sampleNotification();
    await discord.send({ url: `${server.url}/api/webhooks/1/abc` }, n, localContext());
    const [req] = server.received;
    expect(req?.path).toBe("/api/webhooks/1/abc");
    expect(req?.headers.get("content-type")).toBe("application/json");
    const body = JSON.parse(req!.body);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(body.username).toBe("Vigil");
    expect(body.embeds).toHaveLength(1);
    const embed = body.embeds[0];
    expect(embed.color).toBe(DISCORD_COLOURS.critical);
    expect(embed.title).toBe(escapeDiscord(n.title));
    expect(embed.url).toBe("https://vigil.example.com/alerts#alert-42");
    expect(embed.timestamp).toBe(n.at);
    expect(embed.footer.text).toBe("Vigil · firing");
  });

  test("warning, resolved and test have their own colours", async () => {
    const ctx = localContext();
    await discord.send({ url: `${server.url}/h` }, sampleNotification({ severity: "warning" }), ctx);
    await discord.send({ url: `${server.url}/h` }, sampleNotification({ event: "resolved" }), ctx);
    await discord.send({ url: `${server.url}/h` }, sampleNotification({ event: "test" }), ctx);
    const colours = server.received.map((r) => JSON.parse(r.body).embeds[0].color);
    expect(colours).toEqual([DISCORD_COLOURS.warning, DISCORD_COLOURS.resolved, DISCORD_COLOURS.test]);
  });

  test("mentions and markdown in names are neutralised", async () => {
    await discord.send({ url: `${server.url}/h` }, hostileNotification(), localContext());
    const embed = JSON.parse(server.received[0]!.body).embeds[0];
    expect(embed.description).toContain("\\<img src=x onerror=alert(1)> @\u200beveryone \\*gpu\\*\\_07 & \\<!channel>");
    expect(embed.description).toEndWith("\nOpen: https://vigil.example.com/alerts#alert-42");
    expect(embed.description).not.toContain("@everyone");
    expect(
      escapeDiscord("@here [x](http://evil) `code` ~~s~~ ||spoiler|| see https://a.example/x_y-z\n# big\n- item\n> quote\n1. first"),
    ).toBe(
      "@\u200bhere \\[x\\](http://evil) \\`code\\` \\~\\~s\\~\\~ \\|\\|spoiler\\|\\| see https://a.example/x_y-z\n\\# big\n\\- item\n\\> quote\n\\1. first",
    );
  });

  test("a rate limit is retryable and keeps Retry-After", async () => {
    server.respond = () =>
      Response.json({ message: "You are being rate limited.", retry_after: 2 }, { status: 429, headers: { "retry-after": "2" } });
    const err = await discord.send({ url: `${server.url}/h` }, sampleNotification(), localContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect((err as DeliveryError).retryable).toBe(true);
    expect((err as DeliveryError).retryAfterSeconds).toBe(2);
    expect((err as DeliveryError).message).toContain('HTTP 429 Too Many Requests: {"message":"You are being rate limited."');
  });
});
