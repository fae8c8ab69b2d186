import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { createTokenVerifier } from "../src/binding/verifier.js";
import { authorizationServerSchema } from "../src/config/schema.js";
import type { AuthorizationServerStub } from "../src/dev/authorization-server.js";
import { count, latency, latencyLines, micros, timed, type Latency } from "./latency.js";

/**
 * The in-process half of bench/binding.ts: what one uncached PS256 access-token verification costs, in the
 * benchmark's own process against the authorization-server stub (also in this process; only discovery and the
 * JWK Set are fetched from it, once).
 *
 * - jose `jwtVerify` against `createLocalJWKSet` (the stub's JWK Set, fetched once): the signature and claims
 *   check alone, with the options the edge uses (PS256 only, `iss`, `exp` required, clock tolerance);
 * - the edge's own `createTokenVerifier` (default settings, JWK Set from discovery): N distinct tokens, each
 *   unseen, so each is one verification (SHA-256 cache key, single-flight, jose, `cnf` read, cache insert); and
 *   one token N times, all cache hits.
 *
 * Every series runs sequentially, timing each awaited call with `process.hrtime.bigint()`; ops/s is the
 * series' count over its wall-clock time. jose verifies with WebCrypto, whose RSA work runs on libuv's thread
 * pool, so the sequential figure is latency; the concurrent one shows what the pool gets through.
 */

/** One series: per-call latency and the rate of the whole series. */
export interface Series extends Latency {
  readonly opsPerSecond: number;
}

export interface VerifyFigures {
  readonly tokenBytes: number;
  readonly jose: Series;
  /** The same calls with `concurrency` in flight: ops/s only. */
  readonly joseConcurrent: { readonly concurrency: number; readonly opsPerSecond: number };
  readonly uncached: Series;
  readonly cached: Series;
  /** The verifier's own counters over the two series: what it actually did. */
  readonly uncachedVerifications: number;
  readonly cachedHits: number;
}

/** The claims of every benchmark token: an OFB-like access token bound to participant-a's certificate. */
export const TOKEN_CLAIMS = { client_id: "bench-client", scope: "openid accounts" } as const;

/** `n` distinct tokens (each its own `jti`) bound to `thumbprint`, valid for an hour. */
export function issueTokens(stub: AuthorizationServerStub, thumbprint: string, n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, () => stub.issueJwt({ thumbprint, claims: { ...TOKEN_CLAIMS }, lifetimeSeconds: 3600 })));
}

/** Calls `op` on each token in turn; a call whose result is not ok counts as a failure. */
async function series(tokens: readonly string[], op: (token: string) => Promise<boolean>): Promise<Series & { failures: number }> {
  const samples: number[] = [];
  let failures = 0;
  const t0 = performance.now();
  for (const token of tokens) {
    samples.push(
      await timed(async () => {
        if (!(await op(token))) failures++;
      }),
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  return { ...latency(samples), opsPerSecond: tokens.length / seconds, failures };
}

/** `op` on every token with `concurrency` calls in flight; ops/s. */
async function concurrent(tokens: readonly string[], concurrency: number, op: (token: string) => Promise<boolean>): Promise<{ opsPerSecond: number; failures: number }> {
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tokens.length) if (!(await op(tokens[next++]!))) failures++;
    }),
  );
  return { opsPerSecond: tokens.length / ((performance.now() - t0) / 1000), failures };
}

/**
 * Measures on `tokens` (distinct, unseen by any verifier in this process), after warming each path up on
 * `warmTokens`. Throws when a verification fails: the figures would not describe a successful verification.
 */
export async function measureVerification(stub: AuthorizationServerStub, thumbprint: string, tokens: readonly string[], warmTokens: readonly string[]): Promise<VerifyFigures> {
  const check = (what: string, failures: number) => {
    if (failures > 0) throw new Error(`${what}: ${failures} verification(s) failed`);
  };

  const res = await fetch(stub.jwksUri);
  if (!res.ok) throw new Error(`GET ${stub.jwksUri}: ${res.status}`);
  const keys = createLocalJWKSet((await res.json()) as JSONWebKeySet);
  const config = authorizationServerSchema.parse({ issuer: stub.issuer });
  const joseOptions = { algorithms: [...config.algorithms], issuer: config.issuer, clockTolerance: config.clockSkewSeconds, requiredClaims: ["exp"] };
  const joseVerify = async (token: string) => {
    const { payload } = await jwtVerify(token, keys, joseOptions);
    return (payload.cnf as Record<string, unknown> | undefined)?.["x5t#S256"] === thumbprint;
  };
  check("jose warm-up", (await series(warmTokens, joseVerify)).failures);
  const jose = await series(tokens, joseVerify);
  check("jose jwtVerify", jose.failures);
  const concurrency = 16;
  const joseConcurrent = await concurrent(tokens, concurrency, joseVerify);
  check("jose jwtVerify (concurrent)", joseConcurrent.failures);

  const verifier = createTokenVerifier(config, { now: () => Date.now(), configFile: "bench" });
  try {
    const verify = async (token: string) => {
      const outcome = await verifier.verify(token);
      if (!outcome.ok) throw new Error(`createTokenVerifier: ${outcome.code}: ${outcome.detail}`);
      return outcome.token.confirmation.ok && outcome.token.confirmation.thumbprint === thumbprint;
    };
    // The first call fetches discovery and the JWK Set; the rest warm the verification path up.
    check("verifier warm-up", (await series(warmTokens, verify)).failures);
    const v0 = { ...verifier.stats };
    const uncached = await series(tokens, verify);
    check("verifier, distinct tokens", uncached.failures);
    const v1 = { ...verifier.stats };
    const same = tokens[0]!;
    const cached = await series(Array.from({ length: tokens.length }, () => same), verify);
    check("verifier, same token", cached.failures);
    const v2 = { ...verifier.stats };
    return {
      tokenBytes: Buffer.byteLength(same),
      jose,
      joseConcurrent: { concurrency, opsPerSecond: joseConcurrent.opsPerSecond },
      uncached,
      cached,
      uncachedVerifications: v1.verifications - v0.verifications,
      cachedHits: v2.hits - v1.hits,
    };
  } finally {
    await verifier.close();
  }
}

/** Section 2 of the report. */
export function verificationText(f: VerifyFigures, section: number): string {
  const rate = (s: Series) => [count(Math.round(s.opsPerSecond))];
  return [
    `\n== ${section}. uncached PS256 verification, in this process (${count(f.jose.samples)} distinct tokens of ${f.tokenBytes} bytes, process.hrtime.bigint() around each awaited call, µs) ==`,
    ...latencyLines(
      [
        { name: "jose jwtVerify, local JWK Set", x: f.jose, extra: rate(f.jose), note: `${count(Math.round(f.joseConcurrent.opsPerSecond))} ops/s with ${f.joseConcurrent.concurrency} in flight` },
        { name: "createTokenVerifier: distinct tokens", x: f.uncached, extra: rate(f.uncached), note: `${count(f.uncachedVerifications)} verifications` },
        { name: "createTokenVerifier: same token (cached)", x: f.cached, extra: rate(f.cached), note: `${count(f.cachedHits)} cache hits` },
      ],
      42,
      ["ops/s"],
    ),
    `  => one uncached verification through the edge's verifier: p50 ${micros(f.uncached.p50)} µs (jose alone ${micros(f.jose.p50)} µs); a cache hit: p50 ${micros(f.cached.p50)} µs`,
  ].join("\n");
}
