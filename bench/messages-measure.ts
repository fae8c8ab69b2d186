import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { compactVerify, CompactSign, importJWK, importPKCS8, type JWK } from "jose";
import { createCapture } from "../src/idempotency/capture.js";
import { requestFingerprint } from "../src/idempotency/fingerprint.js";
import { createMemoryIdempotencyStore } from "../src/idempotency/memory-store.js";
import { DEFAULT_STORED_HEADERS } from "../src/idempotency/stored-headers.js";
import { memoryLimiterBackend } from "../src/limits/backend.js";
import { createTrafficLimits } from "../src/limits/traffic-limits.js";
import { messageSigningSchema } from "../src/messages/signing-config.js";
import { createMemoryReplayStore } from "../src/messages/replay-store.js";
import { createResponseSigner } from "../src/messages/response-signer.js";
import { signBackendResponse } from "../src/messages/signing-response.js";
import { createMessageVerifier } from "../src/messages/signing-verify.js";
import type { TestPkiManifest } from "../src/pki/test-pki/index.js";

/**
 * The idempotency and limits rules' own work per request, in this process, without HTTP: what the end-to-end
 * difference of bench/messages.ts is made of besides the stage's plumbing (reading the body before forwarding it, one more
 * middleware). Each is timed over `iterations` requests after a warm-up, best of three, in µs of this process's CPU
 * (user + system, so that other processes sharing the cores do not count) per request.
 */
export interface RuleCosts {
  /** requestFingerprint of the signed body, a claim, the capture of a 200 response and its completion (memory store). */
  readonly idempotencyMicros: number;
  /** The participant's two windows and the route's global ceiling consumed (memory limiters). */
  readonly limitsMicros: number;
}

const ORGANISATION = "a0a0a0a0-1111-4222-8333-444455556666";
const RESPONSE_BODY = Buffer.alloc(600, 0x61);
const RESPONSE_FIELDS = ["content-type", "application/jwt", "content-length", "600", "x-v", "4.0.0", "date", "Sun, 06 Dec 2026 12:00:00 GMT"];

async function timePerCall(iterations: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let bestMicros = Infinity;
  let offset = 0;
  for (let round = 0; round < 4; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) await call(offset + i);
    offset += iterations;
    const c1 = process.cpuUsage(c0);
    const micros = (c1.user + c1.system) / iterations;
    // The first round is the warm-up.
    if (round > 0) bestMicros = Math.min(bestMicros, micros);
  }
  return bestMicros;
}

export async function measureRuleCosts(path: string, body: Buffer, iterations = 20_000): Promise<RuleCosts> {
  const store = createMemoryIdempotencyStore({ maxEntries: 4 * iterations + 1 });
  const stored = new Set(DEFAULT_STORED_HEADERS);
  const idempotencyMicros = await timePerCall(iterations, async (i) => {
    const fingerprint = requestFingerprint("POST", path, "application/jwt", body);
    const claim = await store.claim(ORGANISATION, `bench-${i}`, fingerprint, 120_000);
    if (claim.kind !== "claimed") throw new Error(`bench: claim ${claim.kind}`);
    const capture = createCapture(256 * 1024, stored);
    capture.head(200, RESPONSE_FIELDS);
    capture.data(RESPONSE_BODY);
    capture.end();
    const captured = capture.result();
    if (captured.kind !== "complete") throw new Error("bench: capture incomplete");
    await store.complete(ORGANISATION, `bench-${i}`, claim.token, captured.response, 86_400_000);
  });
  await store.close();

  const backend = memoryLimiterBackend();
  const limits = createTrafficLimits({ families: { payments: { organisation: { perSecond: 1_000_000, perMinute: 60_000_000 } } }, onStoreError: "open" }, backend);
  const caller = { organisationId: ORGANISATION, softwareStatementId: "b0b0b0b0-1111-4222-8333-444455556666" };
  const limitsMicros = await timePerCall(iterations, async () => {
    const verdict = await limits.check({ name: "payments", globalPerSecond: 10_000_000 }, path, caller);
    if (!verdict.ok) throw new Error("bench: a limit was reached");
  });
  await backend.close();
  return { idempotencyMicros, limitsMicros };
}

/**
 * The raw PS256 work one signed request needs: jose `compactVerify` of the caller's message (participant-a's
 * published key) and `CompactSign` of the response (the bank's key), CPU µs each, one at a time; then both with
 * `concurrency` requests' crypto in flight, as the edge does them under load (WebCrypto jobs on the thread pool).
 */
export async function rawCrypto(pki: TestPkiManifest, message: string, response: string, iterations: number, concurrency: number) {
  const participant = pki.signingKeys["participant-a"]!;
  const bank = pki.signingKeys.bank!;
  const publicJwk = (JSON.parse(await readFile(join(pki.directory.keystore, participant.organisationId, "application.jwks"), "utf8")) as { keys: JWK[] }).keys.find((k) => k.kid === participant.kid)!;
  const verifyKey = await importJWK(publicJwk, "PS256");
  const signKey = await importPKCS8(await readFile(bank.key, "utf8"), "PS256");
  const bytes = new TextEncoder().encode(response);
  const cpu = async (fn: () => Promise<unknown>, inFlight = 1) => {
    for (let i = 0; i < 50; i++) await fn();
    const start = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next++ < iterations) await fn();
      }),
    );
    const used = process.cpuUsage(start);
    return (used.user + used.system) / iterations;
  };
  const verifyOnce = () => compactVerify(message, verifyKey, { algorithms: ["PS256"] });
  const signOnce = () => new CompactSign(bytes).setProtectedHeader({ alg: "PS256", kid: bank.kid, typ: "JWT" }).sign(signKey);
  const verify = await cpu(verifyOnce);
  const sign = await cpu(signOnce);
  const concurrent = await cpu(async () => {
    await verifyOnce();
    await signOnce();
  }, concurrency);
  return { verify, sign, concurrent };
}

/**
 * The signing rule's own work per request, in this process, without HTTP, one request at a time: the edge's
 * verifier on a distinct message each time (the JWS parsed, the key found, the signature verified, the claims
 * checked), its `jti` marked in the memory replay store, and the backend's JSON response signed as the edge signs
 * it (`signBackendResponse`: parse, claims, sign). CPU µs per request (this process's user + system, the thread
 * pool's crypto included); the difference from {@link rawCrypto}'s one-at-a-time total is the rule's own overhead.
 */
export async function measureSigningRule(pki: TestPkiManifest, messages: readonly string[], audience: string, response: Buffer): Promise<number> {
  const participant = pki.signingKeys["participant-a"]!;
  const bank = pki.signingKeys.bank!;
  const organisationId = pki.clients["participant-a"]!.organisationId!;
  const publicJwk = (JSON.parse(await readFile(join(pki.directory.keystore, participant.organisationId, "application.jwks"), "utf8")) as { keys: JWK[] }).keys.find((k) => k.kid === participant.kid)!;
  const now = () => Date.now();
  const verifier = createMessageVerifier({ algorithms: ["PS256"], clockSkewSeconds: 86_400, key: async () => ({ status: "active", jwk: publicJwk }) });
  const replay = createMemoryReplayStore();
  const signer = createResponseSigner(messageSigningSchema.parse({ organisationId: pki.bank.organisationId, signingKey: { file: bank.key, kid: bank.kid } }), { now, configFile: "bench" })!;
  const headers = { "content-type": "application/json" };
  let i = 0;
  const one = async () => {
    const verdict = await verifier.verify(messages[i++ % messages.length]!, organisationId, audience, now());
    if (!verdict.ok) throw new Error(`bench: the verifier refused a pool message: ${verdict.detail}`);
    if (!(await replay.firstUse(`${organisationId}:${verdict.message.jti}:${i}`, 900_000))) throw new Error("bench: jti seen");
    const out = await signBackendResponse({ route: "bench", headers, body: response, signer, audience: organisationId, sign: "always" });
    if (out.kept) throw new Error("bench: the response was not signed");
  };
  const count = Math.min(messages.length, 2_000);
  return timePerCall(Math.floor(count / 4), one);
}
