import { z } from "zod";
import { redisStoreShape } from "../redis/config.js";
import { OFB_IDEMPOTENT_OPERATIONS, OPERATION_PATTERN } from "./operations.js";
import { DEFAULT_STORED_HEADERS } from "./stored-headers.js";

const positiveMs = (def: number) => z.number().int().positive().default(def);

/**
 * Where first responses are kept: this host's memory (one process, or the cluster primary shared by the workers), or
 * the Redis every replica uses. Redis is the only store with which replicas behind a load balancer recognise each
 * other's keys.
 */
const storeSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("memory"),
    maxEntries: z.number().int().min(1).default(100_000).describe("Keys kept at most; the oldest is dropped first (counted as an eviction)."),
  }),
  z.strictObject({
    ...redisStoreShape("Keys idem:<organisation>:<SHA-256 of the key> under it."),
    replicaAcks: z
      .union([z.literal("auto"), z.number().int().min(0).max(16)])
      .default("auto")
      .describe(
        "Replicas that must have the claim of a first request before it is forwarded (Redis WAIT): a failover then promotes a replica that knows the key, so a retry is not forwarded a second time. " +
          "auto: 1 with redis.mode sentinel, 0 otherwise. A claim not acknowledged in time is forwarded anyway, logged and counted (a replica that is down cannot be promoted).",
      ),
  }),
]);

/** A status to store: a number, or a class (`2xx`). */
const statusSchema = z.union([z.number().int().min(200).max(599), z.enum(["2xx", "4xx", "5xx"])]);

/**
 * The top-level `idempotency` section: how routes with `idempotency: enforce` recognise a repeated request (OFB
 * payments OpenAPI `x-idempotency-key`; draft-ietf-httpapi-idempotency-key-header-04).
 */
export const idempotencySchema = z
  .strictObject({
    store: storeSchema.default({ type: "memory", maxEntries: 100_000 }),
    windowMs: positiveMs(86_400_000).describe("How long a first response is replayed (OFB: the idempotent behaviour holds for 24 hours for one key)."),
    operations: z
      .array(z.string().regex(OPERATION_PATTERN, "METHOD /path, METHOD one of POST PUT PATCH DELETE, '{name}' standing for one path segment"))
      .min(1)
      .default([...OFB_IDEMPOTENT_OPERATIONS])
      .describe(
        "The requests that must carry x-idempotency-key on routes with idempotency enforce: METHOD and path template ('{name}' is one segment). Default: every operation whose OFB OpenAPI document declares x-idempotency-key required (payments, automatic-payments, enrollments).",
      ),
    storeStatuses: z
      .array(statusSchema)
      .min(1)
      .default(["2xx", 422])
      .describe(
        "Backend responses that are stored and replayed. Default 2xx and 422 (OFB: the key is kept when the payment was processed, 201, or refused by a business rule, 422). Any other answer — and a failure before the backend answered — frees the key, so that a retry is forwarded again.",
      ),
    maxResponseBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(256 * 1024)
      .describe("A response body larger than this is not stored (logged and counted) and frees the key; OFB payment responses are a few kB."),
    storedHeaders: z
      .array(z.string().regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/, "a header field name in lower case"))
      .default([...DEFAULT_STORED_HEADERS])
      .describe("The response header fields stored and replayed with the status and body (lower case). Date and x-fapi-interaction-id are always the repeat's own."),
    inFlightWaitMs: z
      .number()
      .int()
      .min(0)
      .max(120_000)
      .default(10_000)
      .describe("A repeat that arrives while the first request is still in flight waits this long for its response and gets it; then 409 IDEMPOTENCY_IN_PROGRESS with Retry-After."),
    claimTtlMs: positiveMs(120_000).describe(
      "How long a first request holds its key while in flight, should its replica die before it answers; then a retry is forwarded. Longer than the longest exchange with the backend (proxy time-outs).",
    ),
  })
  .describe("x-idempotency-key on routes with idempotency enforce: a repeat gets the first response, the backend receives it once.");

export type IdempotencyConfig = z.output<typeof idempotencySchema>;

/** The per-route option. */
export const routeIdempotencySchema = z
  .enum(["enforce", "off"])
  .default("off")
  .describe(
    "enforce: the operations of idempotency.operations must carry x-idempotency-key (400 otherwise); a repeat with the same key and body gets the first response without reaching the backend, the same key with another body 422 ERRO_IDEMPOTENCIA. Needs the idempotency section and mtls required.",
  );
