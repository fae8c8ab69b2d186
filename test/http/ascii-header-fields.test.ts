import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAuthorizationServerStub, type AuthorizationServerStub } from "../../src/dev/authorization-server.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest, type TestRequest, type TestResponse } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * RFC 9110 §5.5: a field value is ASCII in practice (other octets are obsolete text a recipient can only guess at;
 * clients showed the "§" of the edge's messages as "?"). Every header field the edge writes — the challenge's
 * `error_description` above all, which quotes specification sections — is printable ASCII, in every kind of answer.
 */

const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let as: AuthorizationServerStub;
let edge: Awaited<ReturnType<typeof startTestEdge>>;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  as = await startAuthorizationServerStub();
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    authorizationServer: { issuer: as.issuer },
    routes: [
      { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url },
      { name: "down", pathPrefix: "/down/", upstream: `http://127.0.0.1:${await freePort()}` },
    ],
  });
});

afterAll(async () => {
  await edge?.close();
  await as?.close();
  await backend?.close();
});

const send = (r: Partial<TestRequest>): Promise<TestResponse> => httpsRequest({ pki, port: edge.port, ...r });

function expectAsciiFields(res: TestResponse): void {
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : [value ?? ""]) expect(v, `${name}: ${v}`).toMatch(PRINTABLE_ASCII);
  }
}

describe("every header field the edge writes is printable ASCII", () => {
  it("the bearer challenge spells specification sections out ('section', not '§' nor '?')", async () => {
    const credentials = clientCredentials(pki, "participant-a");
    // A token without `cnf`: TOKEN_UNBOUND, whose detail cites RFC 8705 §3.
    const unbound = await send({ credentials, headers: { authorization: `Bearer ${await as.issueJwt()}` } });
    expect(unbound.status).toBe(401);
    expectAsciiFields(unbound);
    expect(unbound.headers["www-authenticate"]).toContain('error_description="the token has no cnf claim (RFC 8705 section 3)"');
    // access_token in a form body: TOKEN_REQUEST_INVALID citing RFC 6750 §2.1.
    const token = await as.issueJwt({ thumbprint: pki.clients["participant-a"]!.thumbprint });
    const inBody = await send({ credentials, method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" }, body: `access_token=${token}` });
    expect(inBody.status).toBe(400);
    expectAsciiFields(inBody);
    expect(inBody.headers["www-authenticate"]).toContain("(RFC 6750 section 2.1)");
    expect(backend.received).toHaveLength(0);
  });

  it("in every other kind of answer: forwarded, certificate and identity refusals, 400, 404, 405, 502", async () => {
    const a = clientCredentials(pki, "participant-a");
    const authorization = `Bearer ${await as.issueJwt({ thumbprint: pki.clients["participant-a"]!.thumbprint })}`;
    const answers = await Promise.all([
      send({ credentials: a, headers: { authorization } }),
      send({ headers: { authorization } }),
      send({ credentials: clientCredentials(pki, "expired"), headers: { authorization } }),
      send({ credentials: clientCredentials(pki, "no-uid"), headers: { authorization } }),
      send({ credentials: a, headers: { authorization }, interactionId: false }),
      send({ credentials: a, headers: { authorization }, path: "/nowhere" }),
      send({ credentials: a, headers: { authorization }, method: "TRACE" }),
      send({ credentials: a, headers: { authorization }, path: "/down/x" }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 401, 401, 401, 400, 404, 405, 502]);
    for (const res of answers) expectAsciiFields(res);
  });
});
