import { describe, expect, test } from "bun:test";
import { clientInfo, normalise, TrustedProxies } from "./client-ip.ts";

function req(headers: Record<string, string> = {}, url = "http://vigil.test/x"): Request {
  return new Request(url, { headers });
}

describe("TrustedProxies parsing", () => {
  test("single addresses, IPv4 and IPv6, separated by commas with spaces", () => {
    const p = new TrustedProxies(" 127.0.0.1 ,  ::1,192.0.2.10 ");
    expect(p.empty).toBe(false);
    expect(p.trusts("127.0.0.1")).toBe(true);
    expect(p.trusts("::1")).toBe(true);
    expect(p.trusts("192.0.2.10")).toBe(true);
    expect(p.trusts("192.0.2.11")).toBe(false);
    expect(p.trusts("127.0.0.2")).toBe(false);
    expect(p.trusts("::2")).toBe(false);
  });

  test("an array of entries is accepted as well as a string", () => {
    const p = new TrustedProxies(["10.1.2.3", " fd00::/8 "]);
    expect(p.trusts("10.1.2.3")).toBe(true);
    expect(p.trusts("fd12:3456::1")).toBe(true);
    expect(p.trusts("fe80::1")).toBe(false);
  });

  test("IPv4 CIDR ranges cover exactly their addresses", () => {
    const p = new TrustedProxies("10.0.0.0/8, 192.168.1.0/24, 172.16.0.0/12");
    expect(p.trusts("10.0.0.0")).toBe(true);
    expect(p.trusts("10.255.255.255")).toBe(true);
    expect(p.trusts("11.0.0.0")).toBe(false);
    expect(p.trusts("9.255.255.255")).toBe(false);
    expect(p.trusts("192.168.1.77")).toBe(true);
    expect(p.trusts("192.168.2.1")).toBe(false);
    expect(p.trusts("172.31.255.255")).toBe(true);
    expect(p.trusts("172.32.0.0")).toBe(false);
  });

  test("/32 and /0 prefixes", () => {
    expect(new TrustedProxies("192.0.2.1/32").trusts("192.0.2.1")).toBe(true);
    expect(new TrustedProxies("192.0.2.1/32").trusts("192.0.2.2")).toBe(false);
    expect(new TrustedProxies("0.0.0.0/0").trusts("198.51.100.200")).toBe(true);
  });

  test("IPv6 CIDR ranges", () => {
    const p = new TrustedProxies("2001:db8::/32, fe80::/64");
    expect(p.trusts("2001:db8::1")).toBe(true);
    expect(p.trusts("2001:db8:ffff:ffff::1")).toBe(true);
    expect(p.trusts("2001:db9::1")).toBe(false);
    expect(p.trusts("fe80::abcd")).toBe(true);
    expect(p.trusts("fe80:0:0:1::1")).toBe(false);
    // An IPv6 range does not trust IPv4 peers.
    expect(p.trusts("10.0.0.1")).toBe(false);
  });

  test("bad entries throw with the offending text", () => {
    expect(() => new TrustedProxies("127.0.0.1, not-an-ip")).toThrow(`"not-an-ip" is not an IP address or CIDR range`);
    expect(() => new TrustedProxies("256.0.0.1")).toThrow(`"256.0.0.1" is not an IP address or CIDR range`);
    expect(() => new TrustedProxies("localhost")).toThrow(`"localhost" is not an IP address or CIDR range`);
    expect(() => new TrustedProxies("/8")).toThrow(`"/8" is not an IP address or CIDR range`);
    expect(() => new TrustedProxies("10.0.0.0/33")).toThrow(`"10.0.0.0/33" has a bad prefix length`);
    expect(() => new TrustedProxies("::/129")).toThrow(`"::/129" has a bad prefix length`);
    expect(() => new TrustedProxies("10.0.0.0/abc")).toThrow(`"10.0.0.0/abc" has a bad prefix length`);
    expect(() => new TrustedProxies("10.0.0.0/-1")).toThrow(`"10.0.0.0/-1" has a bad prefix length`);
    expect(() => new TrustedProxies("10.0.0.0/")).toThrow(`"10.0.0.0/" has a bad prefix length`);
    expect(() => new TrustedProxies(["::1", "1.2.3"])).toThrow(`"1.2.3" is not an IP address or CIDR range`);
  });

  test("an empty list (or only separators) trusts nobody", () => {
    for (const spec of ["", " ", ",", " , ,", [] as string[], ["", " "]]) {
      const p = new TrustedProxies(spec);
      expect(p.empty).toBe(true);
      expect(p.trusts("127.0.0.1")).toBe(false);
      expect(p.trusts("::1")).toBe(false);
    }
  });

  test("trusts() refuses null, empty and non-address input", () => {
    const p = new TrustedProxies("0.0.0.0/0, ::/0");
    expect(p.trusts(null)).toBe(false);
    expect(p.trusts(undefined)).toBe(false);
    expect(p.trusts("")).toBe(false);
    expect(p.trusts("unknown")).toBe(false);
    expect(p.trusts("10.0.0.1:8080")).toBe(false);
    expect(p.trusts("10.0.0.1")).toBe(true);
    expect(p.trusts("2001:db8::5")).toBe(true);
  });

  test("an IPv4-mapped IPv6 peer (dual-stack socket) is matched as its IPv4 address", () => {
    const p = new TrustedProxies("127.0.0.1, 10.0.0.0/8");
    expect(p.trusts("::ffff:127.0.0.1")).toBe(true);
    expect(p.trusts("::FFFF:10.20.30.40")).toBe(true);
    expect(p.trusts("::ffff:11.0.0.1")).toBe(false);
    expect(normalise("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(normalise("::FFFF:10.0.0.1")).toBe("10.0.0.1");
    expect(normalise("::1")).toBe("::1");
    expect(normalise("192.0.2.1")).toBe("192.0.2.1");
  });
});

describe("clientInfo", () => {
  const proxies = new TrustedProxies("127.0.0.1, 10.0.0.0/8, ::1");

  test("without proxy headers the peer is the client; Host and the URL's scheme are used", () => {
    expect(clientInfo(req({ host: "vigil.example" }), "192.0.2.5", proxies)).toEqual({
      ip: "192.0.2.5",
      secure: false,
      host: "vigil.example",
    });
    expect(clientInfo(req({ host: "vigil.example" }, "https://vigil.example/x"), "192.0.2.5", proxies)).toEqual({
      ip: "192.0.2.5",
      secure: true,
      host: "vigil.example",
    });
    expect(clientInfo(req({}), null, proxies)).toEqual({ ip: null, secure: false, host: null });
  });

  test("an untrusted peer's X-Forwarded-* headers are ignored entirely", () => {
    const forged = req({
      host: "vigil.example",
      "x-forwarded-for": "127.0.0.1, 10.0.0.1, 198.51.100.1",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "evil.example",
    });
    expect(clientInfo(forged, "203.0.113.9", proxies)).toEqual({ ip: "203.0.113.9", secure: false, host: "vigil.example" });
    // A forged header never changes the address, whatever it says.
    for (const xff of ["1.1.1.1", "127.0.0.1", "::1", "garbage", ""]) {
      expect(clientInfo(req({ "x-forwarded-for": xff }), "203.0.113.9", proxies).ip).toBe("203.0.113.9");
    }
  });

  test("a trusted peer's X-Forwarded-For gives the rightmost untrusted hop", () => {
    const r = req({ "x-forwarded-for": "6.6.6.6, 198.51.100.7" });
    // 6.6.6.6 is whatever the client claimed; 198.51.100.7 is what our proxy saw.
    expect(clientInfo(r, "127.0.0.1", proxies).ip).toBe("198.51.100.7");
    expect(clientInfo(req({ "x-forwarded-for": "198.51.100.7" }), "10.1.1.1", proxies).ip).toBe("198.51.100.7");
    expect(clientInfo(req({ "x-forwarded-for": "2001:db8::42" }), "::1", proxies).ip).toBe("2001:db8::42");
  });

  test("a chain of several trusted proxies is skipped from the right", () => {
    // client -> 10.0.0.3 -> 10.0.0.2 -> 127.0.0.1 (peer)
    const r = req({ "x-forwarded-for": "1.2.3.4, 198.51.100.7, 10.0.0.3, 10.0.0.2" });
    expect(clientInfo(r, "127.0.0.1", proxies).ip).toBe("198.51.100.7");
    // Several headers are joined by commas by the Headers object; the walk is the same.
    const h = new Headers();
    h.append("x-forwarded-for", "198.51.100.7");
    h.append("x-forwarded-for", "10.0.0.3");
    expect(clientInfo(new Request("http://vigil.test/x", { headers: h }), "127.0.0.1", proxies).ip).toBe("198.51.100.7");
  });

  test("when every hop is a trusted proxy the leftmost one is the address", () => {
    expect(clientInfo(req({ "x-forwarded-for": "10.0.0.9, 10.0.0.8" }), "127.0.0.1", proxies).ip).toBe("10.0.0.9");
  });

  test("a trusted peer without X-Forwarded-For is itself the client", () => {
    expect(clientInfo(req({}), "127.0.0.1", proxies).ip).toBe("127.0.0.1");
    expect(clientInfo(req({ "x-forwarded-for": " , ,, " }), "127.0.0.1", proxies).ip).toBe("127.0.0.1");
  });

  test("garbage in X-Forwarded-For stops the walk at the last address that could be verified", () => {
    expect(clientInfo(req({ "x-forwarded-for": "198.51.100.7, not-an-ip" }), "127.0.0.1", proxies).ip).toBe("127.0.0.1");
    expect(clientInfo(req({ "x-forwarded-for": "198.51.100.7, unknown, 10.0.0.2" }), "127.0.0.1", proxies).ip).toBe("10.0.0.2");
    expect(clientInfo(req({ "x-forwarded-for": "'; DROP TABLE users; --" }), "127.0.0.1", proxies).ip).toBe("127.0.0.1");
    expect(clientInfo(req({ "x-forwarded-for": "198.51.100.7:4444" }), "127.0.0.1", proxies).ip).toBe("127.0.0.1");
    // Garbage to the left of the client does not matter.
    expect(clientInfo(req({ "x-forwarded-for": "garbage, 198.51.100.7" }), "127.0.0.1", proxies).ip).toBe("198.51.100.7");
  });

  test("IPv4-mapped addresses are normalised, for the peer and for the hops", () => {
    expect(clientInfo(req({ "x-forwarded-for": "::ffff:198.51.100.7" }), "::ffff:127.0.0.1", proxies).ip).toBe("198.51.100.7");
    expect(clientInfo(req({}), "::ffff:203.0.113.1", proxies).ip).toBe("203.0.113.1");
    expect(clientInfo(req({ "x-forwarded-for": "198.51.100.7, ::ffff:10.0.0.4" }), "127.0.0.1", proxies).ip).toBe("198.51.100.7");
  });

  test("X-Forwarded-Proto from a trusted peer decides secure", () => {
    expect(clientInfo(req({ "x-forwarded-proto": "https" }), "127.0.0.1", proxies).secure).toBe(true);
    expect(clientInfo(req({ "x-forwarded-proto": "HTTPS" }), "127.0.0.1", proxies).secure).toBe(true);
    expect(clientInfo(req({ "x-forwarded-proto": "http" }), "127.0.0.1", proxies).secure).toBe(false);
    // It can also say a TLS-looking URL was plain HTTP at the edge.
    expect(clientInfo(req({ "x-forwarded-proto": "http" }, "https://vigil.test/x"), "127.0.0.1", proxies).secure).toBe(false);
    // Without the header, the request's own scheme.
    expect(clientInfo(req({}), "127.0.0.1", proxies).secure).toBe(false);
    expect(clientInfo(req({}, "https://vigil.test/x"), "127.0.0.1", proxies).secure).toBe(true);
    // From an untrusted peer it is ignored.
    expect(clientInfo(req({ "x-forwarded-proto": "https" }), "192.0.2.1", proxies).secure).toBe(false);
  });

  test("X-Forwarded-Host is used only from a trusted peer", () => {
    const r = req({ host: "internal:3000", "x-forwarded-host": "vigil.example.com" });
    expect(clientInfo(r, "127.0.0.1", proxies).host).toBe("vigil.example.com");
    expect(clientInfo(r, "192.0.2.1", proxies).host).toBe("internal:3000");
    // An empty X-Forwarded-Host falls back to Host.
    expect(clientInfo(req({ host: "internal:3000", "x-forwarded-host": "" }), "127.0.0.1", proxies).host).toBe("internal:3000");
  });

  test("with an empty proxy list nobody is trusted, not even loopback", () => {
    const none = new TrustedProxies("");
    const r = req({
      host: "vigil.example",
      "x-forwarded-for": "198.51.100.7",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "evil.example",
    });
    expect(clientInfo(r, "127.0.0.1", none)).toEqual({ ip: "127.0.0.1", secure: false, host: "vigil.example" });
    expect(clientInfo(r, "::1", none)).toEqual({ ip: "::1", secure: false, host: "vigil.example" });
  });
});

describe("fixes found in review", () => {
  test("a range with a second prefix is refused, not read as its first part", () => {
    expect(() => new TrustedProxies("10.0.0.0/8/16")).toThrow('"10.0.0.0/8/16" is not an IP address or CIDR range');
  });

  test("X-Forwarded-Proto and -Host count from the right: what the nearest trusted proxy set", () => {
    const proxies = new TrustedProxies("127.0.0.1");
    const req = new Request("http://vigil.test/x", {
      headers: {
        "x-forwarded-proto": "https, http",
        "x-forwarded-host": "evil.example, vigil.example.org",
        "x-forwarded-for": "198.51.100.1",
      },
    });
    expect(clientInfo(req, "127.0.0.1", proxies)).toEqual({ ip: "198.51.100.1", secure: false, host: "vigil.example.org" });
  });
});
