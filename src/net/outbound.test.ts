import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lookup } from "node:dns/promises";
import {
  checkAddress,
  checkHost,
  checkUrl,
  embeddedIpv4,
  OutboundBlocked,
  OutboundFailed,
  outboundFetch,
  outboundPolicy,
  redactUrl,
  STRICT_POLICY,
} from "./outbound.ts";

const LOCAL = outboundPolicy(false, ["127.0.0.0/8"]);
const PRIVATE_OK = outboundPolicy(true);

async function refusal(work: Promise<unknown>): Promise<OutboundBlocked> {
  try {
    await work;
  } catch (err) {
    if (err instanceof OutboundBlocked) return err;
    throw err;
  }
  throw new Error("expected OutboundBlocked, but the call succeeded");
}

describe("the URL parser normalises numeric hosts before we check them", () => {
  test.each([
    ["http://2130706433/", "127.0.0.1"],
    ["http://127.1/", "127.0.0.1"],
    ["http://0x7f.1/", "127.0.0.1"],
    ["http://0177.0.0.1/", "127.0.0.1"],
    ["http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"],
  ])("%s has host %s", (url, host) => {
    expect(new URL(url).hostname).toBe(host);
  });
});

describe("checkUrl under the strict policy", () => {
  test.each([
    ["file:///etc/passwd", "scheme"],
    ["gopher://127.0.0.1:70/", "scheme"],
    ["ftp://example.com/", "scheme"],
    ["data:text/plain,hi", "scheme"],
    ["not a url", "invalid-url"],
    ["http://169.254.169.254/latest/meta-data", "always-refused"],
    ["http://127.1/", "private"],
    ["http://2130706433/", "private"],
    ["http://0x7f.1/", "private"],
    ["http://127.0.0.1:8080/hook", "private"],
    ["http://localhost/", "private"],
    ["http://[::1]/", "private"],
    ["http://[::ffff:127.0.0.1]/", "private"],
    ["http://[::ffff:7f00:1]/", "private"],
    ["http://[::ffff:a9fe:a9fe]/", "always-refused"],
    ["http://[64:ff9b::a9fe:a9fe]/", "always-refused"],
    ["http://[fd00:ec2::254]/", "always-refused"],
    ["http://[fe80::1]/", "always-refused"],
    ["http://0.0.0.0/", "always-refused"],
    ["http://0/", "always-refused"],
    ["http://[::]/", "always-refused"],
    ["http://255.255.255.255/", "always-refused"],
    ["http://224.0.0.1/", "always-refused"],
    ["http://100.100.100.200/", "always-refused"],
    ["http://192.0.0.192/", "always-refused"],
    ["http://10.1.2.3/", "private"],
    ["http://172.16.0.1/", "private"],
    ["http://192.168.1.1/", "private"],
    ["http://100.64.0.1/", "private"],
    ["http://198.18.0.1/", "private"],
    ["http://[fd12:3456::1]/", "private"],
  ])("%s is refused (%s)", async (url, reason) => {
    const err = await refusal(checkUrl(url, STRICT_POLICY));
    expect(err.reason).toBe(reason as OutboundBlocked["reason"]);
  });

  test("public addresses pass", async () => {
    for (const url of ["http://8.8.8.8/", "https://1.1.1.1:8443/x", "http://[2606:4700:4700::1111]/", "http://172.32.0.1/"]) {
      expect((await checkUrl(url, STRICT_POLICY)).href).toBe(new URL(url).href);
    }
  });

  test("the message names the address, the range and the setting to change", async () => {
    const err = await refusal(checkUrl("http://127.1/", STRICT_POLICY));
    expect(err.message).toBe(
      "127.0.0.1 is a private (loopback) address; set VIGIL_OUTBOUND_ALLOW=127.0.0.0/8 (or VIGIL_OUTBOUND_ALLOW_PRIVATE=true) to allow it",
    );
    expect(err.range).toBe("127.0.0.0/8");
    const named = await refusal(checkUrl("http://localhost:9/", STRICT_POLICY));
    expect(named.message).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), which is a private/);
    const meta = await refusal(checkUrl("http://169.254.169.254/", PRIVATE_OK));
    expect(meta.message).toContain("169.254.169.254 is a link-local (cloud metadata) address (169.254.0.0/16); Vigil never connects there");
  });
});

describe("policies", () => {
  test("an allow CIDR opens that private range and no other", async () => {
    expect((await checkUrl("http://127.0.0.1:1/", LOCAL)).hostname).toBe("127.0.0.1");
    expect((await checkUrl("http://127.1/", LOCAL)).hostname).toBe("127.0.0.1");
    expect((await checkUrl("http://[::ffff:127.0.0.1]/", LOCAL)).hostname).toBe("[::ffff:7f00:1]");
    expect((await refusal(checkUrl("http://10.0.0.1/", LOCAL))).reason).toBe("private");
    expect((await refusal(checkUrl("http://[::1]/", LOCAL))).reason).toBe("private");
  });

  test("allowPrivate opens every private range", async () => {
    for (const url of ["http://10.0.0.1/", "http://[::1]/", "http://192.168.0.10/", "http://[fd12::1]/"]) await checkUrl(url, PRIVATE_OK);
  });

  test("nothing opens the always-refused ranges", async () => {
    const everything = outboundPolicy(true, ["0.0.0.0/0", "::/0"]);
    for (const url of [
      "http://169.254.169.254/",
      "http://[::ffff:a9fe:a9fe]/",
      "http://[fd00:ec2::254]/",
      "http://100.100.100.200/",
      "http://192.0.0.192/",
      "http://0.0.0.0/",
    ]) {
      expect((await refusal(checkUrl(url, everything))).reason).toBe("always-refused");
    }
  });

  test("bad allow entries are named", () => {
    expect(() => outboundPolicy(false, "127.0.0.0/8, nonsense")).toThrow('"nonsense" is not an IP address or CIDR range');
    expect(() => outboundPolicy(false, "10.0.0.0/33")).toThrow('"10.0.0.0/33" has a bad prefix length');
    expect(outboundPolicy(false, " 127.0.0.0/8 , ::1 ").allow).toEqual(["127.0.0.0/8", "::1"]);
  });
});

describe("addresses", () => {
  test("embedded IPv4 in IPv6 forms", () => {
    expect(embeddedIpv4("::ffff:7f00:1")).toBe("127.0.0.1");
    expect(embeddedIpv4("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(embeddedIpv4("0:0:0:0:0:ffff:a9fe:a9fe")).toBe("169.254.169.254");
    expect(embeddedIpv4("::7f00:1")).toBe("127.0.0.1");
    expect(embeddedIpv4("64:ff9b::a00:1")).toBe("10.0.0.1");
    expect(embeddedIpv4("::1")).toBeNull();
    expect(embeddedIpv4("::")).toBeNull();
    expect(embeddedIpv4("2001:db8::ffff:7f00:1")).toBeNull();
  });

  test("a name is refused if any of its addresses is", async () => {
    const addresses = (await lookup("localhost", { all: true })).map((a) => a.address);
    expect(await checkHost("localhost", outboundPolicy(false, ["127.0.0.0/8", "::1"]))).toEqual(expect.arrayContaining(addresses));
    // Where localhost also has ::1, allowing only IPv4 loopback is not enough: fetch may connect to either.
    if (addresses.includes("::1")) expect((await refusal(checkHost("localhost", LOCAL))).address).toBe("::1");
    checkAddress("8.8.8.8", STRICT_POLICY);
  });

  test("an unresolvable name is a retryable failure, not a refusal", async () => {
    const err = await checkHost("no-such-host.invalid", STRICT_POLICY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundFailed);
    expect((err as OutboundFailed).retryable).toBe(true);
    expect((err as Error).message).toStartWith("cannot resolve no-such-host.invalid:");
  });

  test("redactUrl keeps the origin only", () => {
    expect(redactUrl("https://hooks.slack.com/services/T0/B0/secret")).toBe("https://hooks.slack.com/…");
    expect(redactUrl("http://127.0.0.1:8080/")).toBe("http://127.0.0.1:8080");
  });
});

describe("outboundFetch against a real local server", () => {
  let server: ReturnType<typeof Bun.serve>;
  let base: string;
  const seen: string[] = [];

  beforeAll(() => {
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const url = new URL(req.url);
        seen.push(`${req.method} ${url.pathname} ${req.headers.get("authorization") ?? "-"} ${await req.text()}`);
        switch (url.pathname) {
          case "/ok":
            return new Response("fine");
          case "/to-metadata":
            return new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data" } });
          case "/to-mapped-metadata":
            return new Response(null, { status: 307, headers: { location: "http://[::ffff:169.254.169.254]/" } });
          case "/to-ok":
            return new Response(null, { status: 302, headers: { location: "/ok" } });
          case "/keep-body":
            return new Response(null, { status: 307, headers: { location: "/ok" } });
          case "/other-origin":
            return new Response(null, { status: 307, headers: { location: `http://localhost:${server.port}/ok` } });
          case "/loop":
            return new Response(null, { status: 302, headers: { location: "/loop" } });
          case "/slow":
            await Bun.sleep(2_000);
            return new Response("late");
          default:
            return new Response("no", { status: 404 });
        }
      },
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop(true));

  test("the strict policy refuses the local server", async () => {
    const err = await refusal(outboundFetch(`${base}/ok`, {}, STRICT_POLICY));
    expect(err.reason).toBe("private");
  });

  test("allowed with allow: 127.0.0.0/8", async () => {
    const res = await outboundFetch(`${base}/ok`, {}, LOCAL);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("fine");
  });

  test("a 302 to the metadata address is refused and the address is never contacted", async () => {
    // Watch every fetch outboundFetch makes: the hop to 169.254.169.254 must be refused before it.
    const fetched: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = Object.assign((input: string | URL | Request, init?: RequestInit) => {
      fetched.push(String(input instanceof Request ? input.url : input));
      return realFetch(input, init);
    }, realFetch);
    try {
      // allowPrivate does not open link-local.
      const err = await refusal(outboundFetch(`${base}/to-metadata`, {}, PRIVATE_OK));
      expect(err.reason).toBe("always-refused");
      expect(err.message).toStartWith(`${base}/… redirected to a refused address: 169.254.169.254 is a link-local`);
      const err2 = await refusal(outboundFetch(`${base}/to-mapped-metadata`, { method: "POST", body: "x" }, LOCAL));
      expect(err2.reason).toBe("always-refused");
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(fetched).toEqual([`${base}/to-metadata`, `${base}/to-mapped-metadata`]);
  });

  test("a 302 to another allowed path is followed (POST becomes GET)", async () => {
    seen.length = 0;
    const res = await outboundFetch(`${base}/to-ok`, { method: "POST", body: "payload" }, LOCAL);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("fine");
    expect(seen).toEqual(["POST /to-ok - payload", "GET /ok - "]);
  });

  test("a 307 keeps the method and body; credentials do not follow to another origin", async () => {
    seen.length = 0;
    await outboundFetch(`${base}/keep-body`, { method: "POST", body: "again", headers: { authorization: "Bearer t" } }, LOCAL);
    expect(seen).toEqual(["POST /keep-body Bearer t again", "POST /ok Bearer t again"]);
    seen.length = 0;
    const policy = outboundPolicy(false, ["127.0.0.0/8", "::1"]);
    await outboundFetch(`${base}/other-origin`, { method: "POST", body: "b", headers: { authorization: "Bearer t" } }, policy);
    expect(seen).toEqual(["POST /other-origin Bearer t b", "POST /ok - b"]);
  });

  test("redirects are limited", async () => {
    const err = await outboundFetch(`${base}/loop`, {}, LOCAL, { maxRedirects: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundFailed);
    expect((err as OutboundFailed).message).toBe(`GET ${base}/…: more than 3 redirects`);
    expect((err as OutboundFailed).retryable).toBe(false);
  });

  test("a slow server times out with a retryable failure", async () => {
    const err = await outboundFetch(`${base}/slow`, {}, LOCAL, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundFailed);
    expect((err as Error).message).toBe(`GET ${base}/… timed out after 200 ms`);
    expect((err as OutboundFailed).retryable).toBe(true);
  });

  test("a closed port is a retryable failure with the address in the message", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = closed.port;
    closed.stop(true);
    const err = await outboundFetch(`http://127.0.0.1:${port}/`, {}, LOCAL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundFailed);
    expect((err as Error).message).toStartWith(`GET http://127.0.0.1:${port} failed:`);
    expect((err as OutboundFailed).retryable).toBe(true);
  });
});
