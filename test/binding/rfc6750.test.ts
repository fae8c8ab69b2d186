import { connect } from "node:tls";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { bearerChallenge } from "../../src/binding/bearer.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { ACCOUNTS, startBindingStack, type BindingStack, type ErrorBody } from "../helpers/binding.js";
import { clientCredentials, testPki } from "../helpers/edge.js";

/**
 * RFC 6750 at the edge: where a bearer token may come from (the Authorization header only, FAPI 1 Part 1
 * §6.2.1), how the scheme is read (case-insensitive, RFC 9110 §11.1), and the challenge syntax (§3).
 * Every refusal is asserted never to reach the backend, and a refused query or body token is never forwarded.
 */

let pki: TestPkiManifest;
let s: BindingStack;
let token: string;

beforeAll(async () => {
  pki = await testPki();
  s = await startBindingStack({ pki });
  token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), lifetimeSeconds: 600 });
});

afterAll(async () => {
  await s?.close();
});

beforeEach(() => {
  s.backend.received.length = 0;
});

/** RFC 6750 §3 / RFC 9110 §11.6.1: `Bearer` then comma-separated `name="value"` auth-params, each name at most once. */
function parseChallenge(value: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\S+)(?: (.*))?$/.exec(value)!;
  const params: Record<string, string> = {};
  if (m[2] !== undefined) {
    const re = /([a-z_]+)="([\x20\x21\x23-\x5B\x5D-\x7E]*)"(?:, |$)/gy;
    let consumed = 0;
    for (let p = re.exec(m[2]); p; p = re.exec(m[2])) {
      expect(params[p[1]!]).toBeUndefined();
      params[p[1]!] = p[2]!;
      consumed = re.lastIndex;
    }
    expect(consumed).toBe(m[2].length);
  }
  return { scheme: m[1]!, params };
}

async function rejected(res: Awaited<ReturnType<BindingStack["call"]>>, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.json<ErrorBody>().errors[0]!.code).toBe(code);
  expect(s.backend.received).toHaveLength(0);
  return res;
}

describe("where the token may come from", () => {
  it("no Authorization header: 401 with a Bearer challenge without error information", async () => {
    const res = await rejected(await s.call("participant-a", null), 401, "TOKEN_MISSING");
    expect(res.headers["www-authenticate"]).toBe("Bearer");
  });

  it.each(["bearer", "BEARER", "bEARER"])("the scheme is case-insensitive: %s", async (scheme) => {
    const res = await s.call("participant-a", null, { headers: { authorization: `${scheme} ${token}` } });
    expect(res.status).toBe(200);
  });

  it.each([
    ["DPoP", () => `DPoP ${token}`],
    ["Basic", () => `Basic ${Buffer.from("client:secret").toString("base64")}`],
  ])("a %s credential is not a bearer token: 401, challenge without error", async (_name, value) => {
    const res = await rejected(await s.call("participant-a", null, { headers: { authorization: value() } }), 401, "TOKEN_MISSING");
    expect(res.headers["www-authenticate"]).toBe("Bearer");
  });

  it("a token in the query string is refused with 400 invalid_request and never forwarded", async () => {
    const res = await rejected(await s.call("participant-a", null, { path: `${ACCOUNTS}?access_token=${token}` }), 400, "TOKEN_REQUEST_INVALID");
    expect(parseChallenge(res.headers["www-authenticate"] as string).params.error).toBe("invalid_request");
  });

  it("a percent-encoded access_token name in the query is the same parameter", async () => {
    await rejected(await s.call("participant-a", null, { path: `${ACCOUNTS}?page=1&access%5Ftoken=${token}` }), 400, "TOKEN_REQUEST_INVALID");
  });

  it("a token in a form-encoded body is refused with 400 invalid_request and never forwarded", async () => {
    const res = await s.call("participant-a", null, {
      method: "POST",
      path: ACCOUNTS,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `access_token=${token}&x=1`,
    });
    await rejected(res, 400, "TOKEN_REQUEST_INVALID");
  });

  it("a form-encoded body without a token is forwarded byte for byte", async () => {
    const body = "grant=1&name=caf%C3%A9&empty=";
    const res = await s.call("participant-a", token, { method: "POST", path: ACCOUNTS, headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" }, body });
    expect(res.status).toBe(200);
    expect(s.backend.received[0]!.body.toString("utf8")).toBe(body);
    expect(s.backend.received[0]!.headers["content-length"]).toBe(String(Buffer.byteLength(body)));
  });

  it("header and query at once (two methods) is 400 invalid_request", async () => {
    const res = await rejected(await s.call("participant-a", token, { path: `${ACCOUNTS}?access_token=${token}` }), 400, "TOKEN_REQUEST_INVALID");
    expect(res.json<ErrorBody>().errors[0]!.detail).toContain("more than one method");
  });

  it("two Authorization header fields are 400 invalid_request", async () => {
    // Node keeps only the first Authorization field in `headers`; the edge reads the raw list.
    const socket = connect({ host: "127.0.0.1", port: s.edge.port, servername: "localhost", ca: readFileSync(pki.trustAnchors), ...clientCredentials(pki, "participant-a") });
    await new Promise<void>((r, j) => socket.once("secureConnect", r).once("error", j));
    socket.write(
      `GET ${ACCOUNTS} HTTP/1.1\r\nHost: localhost\r\nx-fapi-interaction-id: 6f0c4ce2-7a3e-4f09-9a0e-2b8f5d9e1c11\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    );
    const chunks: Buffer[] = [];
    for await (const c of socket as AsyncIterable<Buffer>) chunks.push(c);
    const text = Buffer.concat(chunks).toString("utf8");
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"code":"TOKEN_REQUEST_INVALID"');
    expect(text).toMatch(/\r\nwww-authenticate: Bearer error="invalid_request", error_description="more than one Authorization header"\r\n/i);
    expect(s.backend.received).toHaveLength(0);
  });

  it.each([
    ["no token after the scheme", "Bearer"],
    ["characters outside b64token", "Bearer abc\"def"],
    ["a comma-separated list", `Bearer ${"a"}, Bearer b`],
  ])("malformed Bearer credentials (%s) are 400 invalid_request, with the challenge (RFC 6750 §3)", async (_name, value) => {
    const res = await rejected(await s.call("participant-a", null, { headers: { authorization: value } }), 400, "TOKEN_REQUEST_INVALID");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_request", error_description="[^"]+"$/);
  });

  it("a token longer than maxTokenLength is 400 invalid_request, with the challenge", async () => {
    const res = await rejected(await s.call("participant-a", null, { headers: { authorization: `Bearer ${"a".repeat(4097)}` } }), 400, "TOKEN_REQUEST_INVALID");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_request", error_description="[^"]+"$/);
  });
});

describe("the challenge (RFC 6750 §3)", () => {
  it("every token refusal carries a syntactically valid challenge with quoted auth-params", async () => {
    const res = await rejected(await s.call("participant-a", "not.a.jwt"), 401, "TOKEN_MALFORMED");
    const { scheme, params } = parseChallenge(res.headers["www-authenticate"] as string);
    expect(scheme).toBe("Bearer");
    expect(params.error).toBe("invalid_token");
    expect(params.error_description).toBeDefined();
  });

  it("error_description is restricted to the allowed characters; quotes replaced, accents dropped, '§' spelled out", () => {
    const value = bearerChallenge({ code: "TOKEN_MALFORMED", detail: 'bad "value" \\ São Paulo (RFC 8705 §3)\n', realm: "ofb" });
    expect(value).toBe(`Bearer realm="ofb", error="invalid_token", error_description="bad 'value' ? Sao Paulo (RFC 8705 section 3)?"`);
    expect(parseChallenge(value).params.realm).toBe("ofb");
  });

  it("insufficient_scope adds scope; invalid_request and no-credentials challenges are distinct", () => {
    expect(bearerChallenge({ code: "TOKEN_SCOPE_INSUFFICIENT", detail: "x", scope: ["a", "b"] })).toBe('Bearer error="insufficient_scope", error_description="x", scope="a b"');
    expect(bearerChallenge({ code: "TOKEN_REQUEST_INVALID", detail: "x" })).toBe('Bearer error="invalid_request", error_description="x"');
    expect(bearerChallenge({ code: "TOKEN_MISSING", detail: "ignored", realm: "r" })).toBe('Bearer realm="r"');
  });
});
