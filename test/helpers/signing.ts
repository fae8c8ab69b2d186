import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ServerResponse } from "node:http";
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from "jose";
import type { ConfigInput } from "../../src/config/schema.js";
import { startMockDirectory } from "../../src/directory/mock.js";
import { testMessageSigner, type TestMessageSigner, type TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend, type RecordedRequest } from "./backend.js";
import { httpsRequest, type TestResponse } from "./client.js";
import { clientCredentials, startTestEdge } from "./edge.js";

/** The public base URL the test edges publish: a signed message's `aud` is this and the request path. */
export const PUBLIC_BASE = "https://api.bank.test";
export const CONSENTS = "/open-banking/payments/v4/consents";

/**
 * A real edge verifying and signing payment messages: the mock Directory serving the test PKI's participants and
 * keystore (application keys included), a recording backend (JSON by default), and routes `/open-banking/payments/`
 * (verify-and-sign), `/open-banking/automatic-payments/` (verify) and `/open-banking/` (the built-in table).
 */
export async function startSigningStack(o: {
  pki: TestPkiManifest;
  messageSigning?: Partial<NonNullable<ConfigInput["messageSigning"]>>;
  directory?: Partial<NonNullable<ConfigInput["directory"]>>;
  routes?: (upstream: string) => NonNullable<ConfigInput["routes"]>;
  backend?: (req: RecordedRequest, res: ServerResponse) => void;
  headerProfiles?: ConfigInput["headerProfiles"];
  clock?: () => Date;
}) {
  const backend = await startRecordingBackend(o.backend);
  const directory = await startMockDirectory({ fixtureDir: dirname(o.pki.directory.participants) });
  const bank = o.pki.signingKeys.bank!;
  let edge;
  try {
    edge = await startTestEdge({
      pki: o.pki,
      upstream: backend.url,
      publicBaseUrl: PUBLIC_BASE,
      ...(o.clock && { clock: o.clock }),
      ...(o.headerProfiles && { headerProfiles: o.headerProfiles }),
      routes: o.routes?.(backend.url) ?? [
        { name: "payments", pathPrefix: "/open-banking/payments/", upstream: backend.url, messageSigning: "verify-and-sign" },
        { name: "automatic", pathPrefix: "/open-banking/automatic-payments/", upstream: backend.url, messageSigning: "verify" },
        { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url },
      ],
      directory: { participantsUrl: directory.participantsUrl, keystoreUrl: directory.keystoreUrl, store: { type: "memory" }, ...o.directory },
      messageSigning: { organisationId: o.pki.bank.organisationId, signingKey: { file: bank.key, kid: bank.kid }, ...o.messageSigning },
    });
  } catch (err) {
    await Promise.all([backend.close(), directory.close()]);
    throw err;
  }
  const signers = new Map<string, TestMessageSigner>();
  const signer = async (name = "participant-a") => {
    let s = signers.get(name);
    if (!s) signers.set(name, (s = await testMessageSigner(o.pki, name)));
    return s;
  };
  let directoryUp = true;
  return {
    backend,
    directory,
    edge,
    /** Stops the mock Directory (its keystore then cannot be read). */
    async stopDirectory() {
      directoryUp = false;
      await directory.close();
    },
    signer,
    aud: (path = CONSENTS) => `${PUBLIC_BASE}${path}`,
    /** One request with `client`'s certificate; a string body is sent as application/jwt unless headers say otherwise. */
    send(body: string | undefined, options: { client?: string | null; path?: string; method?: string; headers?: Record<string, string> } = {}): Promise<TestResponse> {
      const client = options.client === undefined ? "participant-a" : options.client;
      return httpsRequest({
        pki: o.pki,
        port: edge.port,
        credentials: client === null ? undefined : clientCredentials(o.pki, client),
        path: options.path ?? CONSENTS,
        method: options.method ?? (body === undefined ? "GET" : "POST"),
        headers: { ...(body !== undefined && { "content-type": "application/jwt" }), ...options.headers },
        ...(body !== undefined && { body }),
      });
    },
    async close() {
      await edge.close();
      await Promise.all([backend.close(), directoryUp && directory.close()]);
    },
  };
}

export type SigningStack = Awaited<ReturnType<typeof startSigningStack>>;

/** The published application keys of an organisation, from the test PKI's keystore fixture (what the Directory serves). */
export async function publishedKey(pki: TestPkiManifest, organisationId: string, kid: string): Promise<JWK> {
  const keys = (JSON.parse(await readFile(join(pki.directory.keystore, organisationId, "application.jwks"), "utf8")) as { keys: JWK[] }).keys;
  const jwk = keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error(`no key ${kid} in ${organisationId}/application.jwks`);
  return jwk;
}

/**
 * Verifies a signed response the way a participant does (OFB security profile: only with the keys the Directory
 * publishes): the bank's key from its application.jwks, PS256; returns the header and claims.
 */
export async function verifyBankSignature(pki: TestPkiManifest, jws: string): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> }> {
  const header = decodeProtectedHeader(jws) as Record<string, unknown>;
  const jwk = await publishedKey(pki, pki.bank.organisationId, String(header.kid));
  const { payload } = await compactVerify(jws, await importJWK(jwk, "PS256"), { algorithms: ["PS256"] });
  return { header, claims: JSON.parse(Buffer.from(payload).toString("utf8")) as Record<string, unknown> };
}

/** `errors[0].code` of an OFB error body, plain JSON or the payload of a signed (JWS) one. */
export function ofbCode(res: TestResponse): string | undefined {
  const text = res.body.toString("utf8");
  const json = text.startsWith("{") ? text : Buffer.from(text.split(".")[1] ?? "", "base64url").toString("utf8");
  try {
    return (JSON.parse(json) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}
