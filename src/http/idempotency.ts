import type { Context, MiddlewareHandler } from "hono";
import { EdgeError } from "../errors.js";
import { createCapture } from "../idempotency/capture.js";
import type { IdempotencyConfig } from "../idempotency/config.js";
import { requestFingerprint } from "../idempotency/fingerprint.js";
import { readIdempotencyKey } from "../idempotency/key.js";
import type { IdempotencyMetrics } from "../idempotency/metrics.js";
import { compileOperations } from "../idempotency/operations.js";
import type { ClaimOutcome, IdempotencyStore, StoredResponse } from "../idempotency/store.js";
import type { Logger } from "../log/logger.js";
import type { EdgeEnv } from "./context.js";
import { INTERACTION_ID } from "./interaction-id.js";
import { readRequestBody } from "./request-body.js";

export interface IdempotencyStageOptions {
  readonly store: IdempotencyStore;
  readonly config: IdempotencyConfig;
  /** `proxy.maxRequestBodyBytes`: the body is read whole to be fingerprinted. */
  readonly maxBodyBytes: number;
  readonly metrics: IdempotencyMetrics;
  readonly logger: Logger;
}

/** The OFB payments OpenAPI's wording for ERRO_IDEMPOTENCIA (422ResponseErrorCreatePixPayments, detail). */
const CONFLICT_DETAIL = "Conteúdo da mensagem (claim data) diverge do conteúdo associado a esta chave de idempotência (x-idempotency-key).";

/** Polling a key held by a request in flight: the first look after 25 ms, then doubling up to 250 ms. */
const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 250;
/** Storing a first response is retried (a Redis failover takes a few seconds) for about this long in total. */
const COMPLETE_RETRY_MS = [100, 200, 400, 800, 1_600, 3_200, 3_200];

/**
 * Stage: `x-idempotency-key` on routes with `idempotency: enforce`, for the operations of `idempotency.operations`
 * (OFB payments OpenAPI; draft-ietf-httpapi-idempotency-key-header-04 §2.6–2.7). It runs after the message
 * signature is verified (OFB: "As validações referentes a assinatura de mensagens devem preceder as validações de
 * idempotência").
 * - no key, or a malformed one: 400;
 * - the first request with a key (per calling organisation) claims it and is forwarded; its response, when its status
 *   is one of `storeStatuses` and its body within `maxResponseBytes`, is stored for `windowMs`;
 * - a repeat with the same fingerprint (method, target, body — for a signed body its payload without the signing
 *   claims) gets the stored status, header fields and body bytes, and the backend receives nothing;
 * - the same key with another fingerprint: 422 ERRO_IDEMPOTENCIA;
 * - a repeat while the first is in flight waits up to `inFlightWaitMs` and gets the first's response (OFB: a repeat
 *   gets "o mesmo resultado obtido anteriormente", and the payments operations declare neither 409 nor 429), or, when
 *   the first frees its key meanwhile, is forwarded itself; after the wait, 409 with Retry-After (the draft's answer
 *   to a concurrent request);
 * - a first request that gets no storable response (an edge rejection after the claim, 502/504, a client that went
 *   away, another status) frees its key: its retry is forwarded again, with the same x-idempotency-key, which the bank
 *   must itself recognise (OFB obliges the account holder to) — the edge cannot know whether the backend acted.
 * The store failing is a 503 before forwarding: a first request is never forwarded without its claim.
 */
export function idempotency(o: IdempotencyStageOptions): MiddlewareHandler<EdgeEnv> {
  const matches = compileOperations(o.config.operations);
  const storable = statusPredicate(o.config.storeStatuses);
  const storedHeaders = new Set(o.config.storedHeaders);
  const { store, metrics, config } = o;

  return async function idempotency(c, next) {
    const route = c.get("route")!;
    const incoming = c.env.incoming;
    const method = incoming.method ?? "GET";
    const target = incoming.url ?? "/";
    const q = target.indexOf("?");
    if (route.config.idempotency !== "enforce" || !matches(method, q < 0 ? target : target.slice(0, q))) {
      await next();
      return;
    }
    const read = readIdempotencyKey(incoming.headers, incoming.rawHeaders);
    if (!read.ok) throw new EdgeError(read.code, "idempotency", read.detail);
    const client = c.get("client");
    // The schema requires mtls required with enforce; a request without a verified certificate never gets here.
    if (!client) throw new EdgeError("CERT_REQUIRED", "tls", "this route requires a client certificate (mutual TLS)");
    const organisation = client.identity.organisationId;
    const body = c.get("requestBody") ?? (await readRequestBody(incoming, o.maxBodyBytes));
    c.set("requestBody", body);
    const fingerprint = requestFingerprint(method, target, incoming.headers["content-type"], body, c.get("message")?.claims);
    const routeName = route.config.name;

    const { outcome, waited } = await claimOrWait(c, organisation, read.key, fingerprint);
    const wait = (result: string) => waited && metrics.waits.inc({ route: routeName, result });
    switch (outcome.kind) {
      case "replay":
        metrics.requests.inc({ route: routeName, outcome: "replayed" });
        wait("replayed");
        c.set("idempotency", "replayed");
        return replay(c, outcome.response);
      case "conflict":
        metrics.requests.inc({ route: routeName, outcome: "conflict" });
        wait("conflict");
        throw new EdgeError("ERRO_IDEMPOTENCIA", "idempotency", CONFLICT_DETAIL);
      case "in-flight":
        metrics.requests.inc({ route: routeName, outcome: "in-progress" });
        wait("timed-out");
        throw new EdgeError("IDEMPOTENCY_IN_PROGRESS", "idempotency", `the first request with this x-idempotency-key has not been answered within ${config.inFlightWaitMs} ms; retry later`, {
          headers: { "retry-after": String(Math.max(1, Math.ceil(config.inFlightWaitMs / 1000))) },
        });
      case "claimed": {
        metrics.requests.inc({ route: routeName, outcome: "first" });
        wait("forwarded");
        const capture = createCapture(config.maxResponseBytes, storedHeaders);
        c.set("responseCapture", capture);
        c.set("idempotency", "first");
        try {
          await next();
        } finally {
          const captured = c.error ? ({ kind: "incomplete" } as const) : capture.result();
          await settle(routeName, organisation, read.key, outcome.token, captured.kind === "complete" && !storable(captured.response.status) ? { kind: "status" } : captured);
        }
        return;
      }
    }
  };

  /** Claims the key; while the first request is in flight, polls until it answers, frees the key, or the wait ends. */
  async function claimOrWait(c: Context<EdgeEnv>, organisation: string, key: string, fingerprint: string): Promise<{ outcome: ClaimOutcome; waited: boolean }> {
    const deadline = Date.now() + config.inFlightWaitMs;
    let delay = FIRST_POLL_MS;
    let waited = false;
    for (;;) {
      let outcome: ClaimOutcome;
      try {
        outcome = await store.claim(organisation, key, fingerprint, config.claimTtlMs);
      } catch (err) {
        metrics.storeErrors.inc({ operation: "claim" });
        o.logger.warn({ kind: "idempotency", err: { message: (err as Error).message } }, "idempotency store unavailable: request refused");
        throw new EdgeError("IDEMPOTENCY_UNAVAILABLE", "idempotency", "the idempotency store cannot be reached; retry later", { headers: { "retry-after": "5" }, cause: err });
      }
      const left = deadline - Date.now();
      if (outcome.kind !== "in-flight" || left <= 0) return { outcome, waited };
      // Nobody to answer: a client that went away stops waiting (and never takes over the key). (The request stream
      // itself is destroyed once its body has been read; the response tells whether the client is still there.)
      if (c.env.outgoing.destroyed) throw new EdgeError("CLIENT_CLOSED_REQUEST", "idempotency", "the client closed the connection while its repeat waited for the first request");
      if (!waited) o.logger.debug({ kind: "idempotency", interactionId: c.get("interactionId"), organisationId: organisation }, "a repeat waits for the first request with its key, still in flight");
      waited = true;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(delay * 2, MAX_POLL_MS);
    }
  }

  /** Stores a first request's response (retrying through a store failover), or frees its key; counts which. */
  async function settle(route: string, organisation: string, key: string, token: string, captured: { kind: "complete"; response: StoredResponse } | { kind: "too-large"; status: number; bytes: number } | { kind: "incomplete" | "status" }): Promise<void> {
    if (captured.kind !== "complete") {
      if (captured.kind === "too-large")
        o.logger.warn({ kind: "idempotency", route, status: captured.status, bytes: captured.bytes, maxResponseBytes: config.maxResponseBytes }, "idempotency: response too large to store; key freed");
      metrics.responses.inc({ route, result: captured.kind });
      await store.release(organisation, key, token).catch((err: Error) => {
        metrics.storeErrors.inc({ operation: "release" });
        o.logger.warn({ kind: "idempotency", err: { message: err.message } }, "idempotency store: a key could not be freed; it frees itself after idempotency.claimTtlMs");
      });
      return;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const stored = await store.complete(organisation, key, token, captured.response, config.windowMs);
        metrics.responses.inc({ route, result: stored ? "stored" : "claim-lost" });
        if (!stored) o.logger.warn({ kind: "idempotency", route }, "idempotency: the key's claim expired before its response arrived (idempotency.claimTtlMs too short?); response not stored");
        return;
      } catch (err) {
        metrics.storeErrors.inc({ operation: "complete" });
        const pause = COMPLETE_RETRY_MS[attempt];
        if (pause === undefined) {
          metrics.responses.inc({ route, result: "store-error" });
          o.logger.error({ kind: "idempotency", route, err: { message: (err as Error).message } }, "idempotency store: a response could not be stored; the key stays claimed until idempotency.claimTtlMs");
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}

/** The stored response, with the repeat's own interaction id (FAPI 1 Part 1 §6.2.1) and Date. */
function replay(c: Context<EdgeEnv>, r: StoredResponse): Response {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of r.headers) {
    const had = headers[name];
    headers[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  headers[INTERACTION_ID] = c.get("interactionId");
  c.set("responseBytes", r.body.length);
  return c.body(Uint8Array.from(r.body), r.status as 200, headers);
}

/** `storeStatuses` as a predicate: numbers exactly, `2xx`/`4xx`/`5xx` by class. */
function statusPredicate(statuses: readonly (number | "2xx" | "4xx" | "5xx")[]): (status: number) => boolean {
  const exact = new Set(statuses.filter((s): s is number => typeof s === "number"));
  const classes = new Set(statuses.filter((s): s is "2xx" | "4xx" | "5xx" => typeof s === "string").map((s) => Number(s[0])));
  return (status) => exact.has(status) || classes.has(Math.floor(status / 100));
}
