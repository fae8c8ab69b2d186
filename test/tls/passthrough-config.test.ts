import { describe, expect, it } from "vitest";
import { z } from "zod";
import { passthroughSchema, type PassthroughConfigInput } from "../../src/tls/passthrough-config.js";
import { createSniRouter } from "../../src/tls/passthrough-routes.js";

// The passthrough section: SNI patterns and backend addresses are checked at start-up, and routing picks
// an exact name over a wildcard, a wildcard for exactly one label, then the default or nothing.

const parse = (input: PassthroughConfigInput) => passthroughSchema.parse(input);

function issues(input: unknown): string[] {
  const result = passthroughSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("passthroughSchema", () => {
  it("fills the time-outs and parses each backend address once", () => {
    expect(parse({ routes: [{ sni: "API.Bank.Example", upstream: "backend.internal:8443" }] })).toEqual({
      routes: [{ sni: "api.bank.example", upstream: { host: "backend.internal", port: 8443, address: "backend.internal:8443" } }],
      clientHelloTimeoutMs: 5_000,
      connectTimeoutMs: 5_000,
      idleTimeoutMs: 300_000,
    });
  });

  it.each([
    ["10.0.0.5:443", { host: "10.0.0.5", port: 443 }],
    ["[::1]:8443", { host: "::1", port: 8443 }],
    ["[2001:db8::5]:1", { host: "2001:db8::5", port: 1 }],
    ["Backend.Internal:65535", { host: "backend.internal", port: 65535 }],
  ])("upstream %s", (address, expected) => {
    expect(parse({ routes: [{ sni: "a.example", upstream: address }] }).routes[0]!.upstream).toEqual({ ...expected, address });
  });

  it.each([
    ["backend.internal", /host:port/],
    ["backend.internal:0", /port out of range/],
    ["backend.internal:65536", /port out of range/],
    ["::1:8443", /host:port/],
    ["[zz::1]:8443", /IPv6/],
    ["bad_host:8443", /character/],
    ["https://backend:8443", /host:port/],
  ])("upstream %s is refused", (address, message) => {
    expect(issues({ routes: [{ sni: "a.example", upstream: address }] })).toEqual([expect.stringMatching(message)]);
  });

  it.each([
    ["*.com", /two labels/],
    ["*.*.bank.example", /character/],
    ["api.*.example", /character/],
    ["*bank.example", /character/],
    ["api.bank.example.", /empty label/],
    ["10.0.0.5", /IP address/],
  ])("sni %s is refused", (sni, message) => {
    expect(issues({ routes: [{ sni, upstream: "b:1" }] })).toEqual([expect.stringMatching(new RegExp(`^routes\\.0\\.sni: .*${message.source}`))]);
  });

  it("refuses the same name twice (case-insensitively), no routes, unknown keys and a bad default", () => {
    const route = { sni: "a.example", upstream: "b:1" };
    expect(issues({ routes: [route, { ...route, sni: "A.example" }] })).toEqual(["routes.1.sni: duplicate sni 'a.example'"]);
    expect(issues({ routes: [] })).toHaveLength(1);
    expect(issues({ routes: [{ ...route, tls: {} }] })).toEqual([expect.stringMatching(/^routes\.0: .*tls/)]);
    expect(issues({ routes: [route], default: "nowhere" })).toEqual([expect.stringMatching(/^default: /)]);
  });

  it("describes itself for the generated JSON Schema (input side)", () => {
    const schema = z.toJSONSchema(passthroughSchema, { io: "input", unrepresentable: "any" }) as { description?: string; properties: Record<string, { description?: string }> };
    expect(schema.description).toMatch(/no identity forwarding/i);
    for (const key of ["routes", "default", "clientHelloTimeoutMs", "connectTimeoutMs", "idleTimeoutMs"]) expect(schema.properties[key]?.description, key).toBeTruthy();
  });
});

describe("SNI routing", () => {
  const route = createSniRouter(
    parse({
      routes: [
        { sni: "*.bank.example", upstream: "wildcard:1" },
        { sni: "api.bank.example", upstream: "exact:1" },
      ],
      default: "fallback:1",
    }),
  );
  const to = (sni: string | null) => route(sni)?.upstream.host ?? null;

  it("an exact name wins over the wildcard, whatever the order and case", () => {
    expect(to("api.bank.example")).toBe("exact");
    expect(to("API.Bank.EXAMPLE")).toBe("exact");
    expect(route("api.bank.example")?.rule).toBe("api.bank.example");
  });

  it("a wildcard stands for exactly one leftmost label", () => {
    expect(to("other.bank.example")).toBe("wildcard");
    expect(route("other.bank.example")?.rule).toBe("*.bank.example");
    expect(to("bank.example")).toBe("fallback");
    expect(to("a.b.bank.example")).toBe("fallback");
  });

  it("no SNI or no match goes to the default, or nowhere without one", () => {
    expect(route(null)?.rule).toBe("default");
    expect(to("unknown.example")).toBe("fallback");
    const strict = createSniRouter(parse({ routes: [{ sni: "*.bank.example", upstream: "w:1" }], default: null }));
    expect(strict(null)).toBeNull();
    expect(strict("unknown.example")).toBeNull();
    expect(strict("localhost")).toBeNull();
  });
});
