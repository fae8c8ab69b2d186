import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startAuthorizationServerStub, type AuthorizationServerStub } from "../../src/dev/authorization-server.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { h2Close, h2Connect, h2Open } from "../helpers/h2-client.js";
import { frame, FRAME, FLAG, H2_ERROR, headerBlock, rawH2, requestFields } from "../helpers/raw-h2.js";

// CVE-2023-44487 ("HTTP/2 Rapid Reset"): a client opens streams and resets them at once, many times a second, on
// one connection. A proxy that forwards each stream anyway lets the client load the backend at no cost to itself.
// Here a stream the client resets never reaches the backend if it is reset before it is forwarded, and its
// upstream request is aborted if it already was: the backend never has more than a moment's work for it. Each
// request carries its own opaque token, so that its pipeline waits for an introspection call (as a first token,
// a Directory or CRL fetch would make it wait): the reset arrives while the request is still in the pipeline.

const PATH = "/open-banking/accounts/v2/accounts";
const BACKEND_DELAY_MS = 2_000;

let pki: TestPkiManifest;
let stub: AuthorizationServerStub;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
/** A backend that answers after BACKEND_DELAY_MS and counts requests that arrived, that were answered, that were abandoned. */
const seen = { arrived: 0, answered: 0, abandoned: 0 };
let backend: ReturnType<typeof createServer>;

beforeAll(async () => {
  pki = await testPki();
  backend = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.arrived++;
    const timer = setTimeout(() => {
      seen.answered++;
      res.end("{}");
    }, BACKEND_DELAY_MS);
    res.once("close", () => {
      if (res.writableFinished) return;
      clearTimeout(timer);
      seen.abandoned++;
    });
    req.resume();
  });
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
  stub = await startAuthorizationServerStub({ clients: [{ clientId: "edge", secret: "s3cret" }] });
  edge = await startTestEdge({
    pki,
    upstream: `http://127.0.0.1:${(backend.address() as AddressInfo).port}`,
    authorizationServer: { issuer: stub.issuer, introspection: { auth: { method: "client_secret_basic", clientId: "edge", clientSecret: "s3cret" } } },
  });
});

/** A fresh opaque token bound to participant-a: its first use costs the edge an introspection call. */
const token = () =>
  `Bearer ${stub.issueOpaque({ active: true, client_id: "client-a", exp: Math.floor(Date.now() / 1000) + 300, cnf: { "x5t#S256": pki.clients["participant-a"]!.thumbprint } })}`;

afterAll(async () => {
  await edge?.close();
  await stub?.close();
  backend?.closeAllConnections();
  await new Promise((resolve) => backend?.close(resolve));
});

describe("streams reset by the client", () => {
  it("HEADERS then RST_STREAM for 200 streams in a row: none is answered by the backend, any that reached it is abandoned at once", async () => {
    const before = { ...seen };
    const client = await rawH2(pki, edge.port, clientCredentials(pki, "participant-a"));
    try {
      const burst: Buffer[] = [];
      const cancel = Buffer.alloc(4);
      cancel.writeUInt32BE(H2_ERROR.CANCEL);
      for (let i = 0; i < 200; i++) {
        const stream = 1 + 2 * i;
        const fields: [string, string][] = [...requestFields(PATH), ["x-fapi-interaction-id", crypto.randomUUID()], ["authorization", token()]];
        burst.push(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, stream, headerBlock(fields)), frame(FRAME.RST_STREAM, 0, stream, cancel));
      }
      client.send(...burst);
      // The connection is still usable afterwards (200 resets are within nghttp2's burst allowance): a request the
      // edge answers itself (no route) is answered.
      client.headers(401, [...requestFields("/no-route"), ["x-fapi-interaction-id", crypto.randomUUID()]]);
      await client.waitFor((f) => f.stream === 401 && f.type === FRAME.HEADERS);
      // Every reset stream's pipeline ran to its end: the forwarding stage found the stream gone.
      const closed = () => edge.logs.filter((l) => l.kind === "access" && l.code === "CLIENT_CLOSED_REQUEST" && l.protocol === "http2").length;
      await vi.waitFor(() => expect(closed()).toBe(200), { timeout: 10_000 });
      expect(seen.arrived - before.arrived).toBe(seen.abandoned - before.abandoned);
      expect(seen.answered - before.answered).toBe(0);
    } finally {
      client.close();
    }
  });

  it("a stream reset while the backend works on it: the upstream request is aborted at once", async () => {
    const before = { ...seen };
    const session = await h2Connect(pki, edge.port, clientCredentials(pki, "participant-a"));
    try {
      const stream = h2Open(session, { path: PATH, headers: { authorization: token() } });
      stream.on("error", () => undefined);
      await vi.waitFor(() => expect(seen.arrived).toBe(before.arrived + 1));
      const t0 = performance.now();
      stream.close(H2_ERROR.CANCEL);
      await vi.waitFor(() => expect(seen.abandoned).toBe(before.abandoned + 1), { timeout: BACKEND_DELAY_MS / 2 });
      expect(performance.now() - t0).toBeLessThan(BACKEND_DELAY_MS / 2);
      expect(seen.answered).toBe(before.answered);
    } finally {
      await h2Close(session);
    }
  });
});
