import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest, type TestResponse } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Mixed case, as the OIDF conformance suite sends it (CreateRandomFAPIInteractionId upper-cases hex digits at random). */
const MIXED_CASE = "4C5b8B7a-1D2e-4F3a-9B8c-7D6E5f4A3b2C";

function expectDateNow(res: TestResponse) {
  expect(res.headers.date, "Date header").toBeDefined();
  expect(Math.abs(Date.parse(res.headers.date!) - Date.now())).toBeLessThan(10_000);
}

describe("x-fapi-interaction-id (FAPI 1 Part 1 §6.2.1, OFB API contract; docs/architecture.md, decision D1)", () => {
  let pki: TestPkiManifest;
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  let credentials: { cert: Buffer; key: Buffer };

  beforeAll(async () => {
    pki = await testPki();
    credentials = clientCredentials(pki, "participant-a");
    backend = await startRecordingBackend((req, res) => {
      // A backend that tries to set its own interaction id on the response.
      res.writeHead(200, { "content-type": "application/json", "x-fapi-interaction-id": randomUUID() });
      res.end("{}");
    });
    const downUrl = `http://127.0.0.1:${await freePort()}`;
    edge = await startTestEdge({
      pki,
      upstream: backend.url,
      routes: [
        { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url, interactionId: "require" },
        { name: "well-known", pathPrefix: "/.well-known/", upstream: backend.url, mtls: "optional", interactionId: "generate" },
        { name: "down", pathPrefix: "/down/", upstream: downUrl },
      ],
    });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  async function expectRejected(headers: Record<string, string | string[]>, sent: readonly string[]) {
    const before = backend.received.length;
    const res = await httpsRequest({ pki, port: edge.port, credentials, interactionId: false, headers });
    expect(res.status).toBe(400);
    expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("INTERACTION_ID_INVALID");
    const echoed = res.headers["x-fapi-interaction-id"] as string;
    expect(echoed).toMatch(UUID);
    for (const s of sent) expect(echoed).not.toBe(s);
    expectDateNow(res);
    expect(backend.received).toHaveLength(before);
  }

  it("missing on a `require` route: 400 INTERACTION_ID_INVALID with a newly generated UUID, nothing forwarded", async () => {
    await expectRejected({}, []);
  });

  const invalid = {
    "not a UUID": "not-a-uuid",
    "empty": "",
    "too long (37 characters)": `${randomUUID()}0`,
    "UUID in braces": `{${randomUUID()}}`,
    "UUID without dashes": randomUUID().replace(/-/g, ""),
    "UUID with surrounding text": `id=${randomUUID()}`,
    "non-hex characters": "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
  };
  for (const [name, value] of Object.entries(invalid)) {
    it(`invalid on a \`require\` route (${name}): 400 with a generated id, the invalid value never echoed`, async () => {
      await expectRejected({ "x-fapi-interaction-id": value }, [value]);
    });
  }

  it("duplicated header (two valid UUIDs) is ambiguous and fails closed: 400", async () => {
    const a = randomUUID();
    const b = randomUUID();
    await expectRejected({ "x-fapi-interaction-id": [a, b] }, [a, b, `${a}, ${b}`]);
  });

  it("duplicated header with the same UUID twice also fails closed: 400", async () => {
    const a = randomUUID();
    await expectRejected({ "x-fapi-interaction-id": [a, a] }, [a]);
  });

  it("a valid mixed-case UUID is echoed byte-for-byte and forwarded byte-for-byte (never case-normalised)", async () => {
    const res = await httpsRequest({ pki, port: edge.port, credentials, headers: { "x-fapi-interaction-id": MIXED_CASE } });
    expect(res.status).toBe(200);
    expect(res.headers["x-fapi-interaction-id"]).toBe(MIXED_CASE);
    expect(backend.received.at(-1)!.headers["x-fapi-interaction-id"]).toBe(MIXED_CASE);
    expectDateNow(res);
  });

  it("the backend cannot replace the echoed id: the client gets its own id, exactly once", async () => {
    const id = randomUUID();
    const res = await httpsRequest({ pki, port: edge.port, credentials, headers: { "x-fapi-interaction-id": id } });
    expect(res.status).toBe(200);
    expect(res.headers["x-fapi-interaction-id"]).toBe(id);
  });

  it("missing on a `generate` route: served with a generated id that is both forwarded and echoed", async () => {
    const before = backend.received.length;
    const res = await httpsRequest({ pki, port: edge.port, path: "/.well-known/openid-configuration", interactionId: false });
    expect(res.status).toBe(200);
    expect(backend.received).toHaveLength(before + 1);
    const forwarded = backend.received.at(-1)!.headers["x-fapi-interaction-id"];
    expect(forwarded).toMatch(UUID);
    expect(res.headers["x-fapi-interaction-id"]).toBe(forwarded);
  });

  it("invalid on a `generate` route: the invalid value is replaced by a generated id (forwarded and echoed)", async () => {
    const res = await httpsRequest({ pki, port: edge.port, path: "/.well-known/openid-configuration", headers: { "x-fapi-interaction-id": "bogus" } });
    expect(res.status).toBe(200);
    const forwarded = backend.received.at(-1)!.headers["x-fapi-interaction-id"];
    expect(forwarded).toMatch(UUID);
    expect(res.headers["x-fapi-interaction-id"]).toBe(forwarded);
  });

  it("a valid id on a `generate` route is kept verbatim", async () => {
    const res = await httpsRequest({ pki, port: edge.port, path: "/.well-known/openid-configuration", headers: { "x-fapi-interaction-id": MIXED_CASE } });
    expect(res.status).toBe(200);
    expect(backend.received.at(-1)!.headers["x-fapi-interaction-id"]).toBe(MIXED_CASE);
    expect(res.headers["x-fapi-interaction-id"]).toBe(MIXED_CASE);
  });

  // `early`: decided before the interaction id stage, so a request without an id still gets this rejection.
  const rejections = [
    { status: 401, code: "CERT_REQUIRED", path: "/open-banking/accounts/v2/accounts", cert: false, early: true },
    { status: 404, code: "ROUTE_NOT_FOUND", path: "/not-routed/x", cert: true, early: true },
    { status: 400, code: "REQUEST_PATH_INVALID", path: "/open-banking/../admin", cert: true, early: true },
    { status: 502, code: "UPSTREAM_UNAVAILABLE", path: "/down/x", cert: true, early: false },
  ];
  for (const r of rejections) {
    it(`echoes the request's id (mixed case kept) and sends Date on a ${r.status} ${r.code}`, async () => {
      const before = backend.received.length;
      const res = await httpsRequest({ pki, port: edge.port, path: r.path, credentials: r.cert ? credentials : undefined, headers: { "x-fapi-interaction-id": MIXED_CASE } });
      expect(res.status).toBe(r.status);
      expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe(r.code);
      expect(res.headers["x-fapi-interaction-id"]).toBe(MIXED_CASE);
      expectDateNow(res);
      expect(backend.received).toHaveLength(before);
    });

    it(`generates an id for a ${r.early ? `${r.status} ${r.code}` : `400 (not ${r.code}: the id is checked first)`} when the request had none`, async () => {
      const res = await httpsRequest({ pki, port: edge.port, path: r.path, credentials: r.cert ? credentials : undefined, interactionId: false });
      expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe(r.early ? r.code : "INTERACTION_ID_INVALID");
      expect(res.headers["x-fapi-interaction-id"]).toMatch(UUID);
    });
  }
});
