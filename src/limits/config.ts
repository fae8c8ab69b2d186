import { z } from "zod";
import { redisStoreShape } from "../redis/config.js";

/** Requests allowed per window: per second, per minute, or both (at least one). */
const windowSchema = z
  .strictObject({
    perSecond: z.number().int().min(1).max(1_000_000).optional(),
    perMinute: z.number().int().min(1).max(60_000_000).optional(),
  })
  .refine((w) => w.perSecond !== undefined || w.perMinute !== undefined, "set perSecond, perMinute or both");

/** The limits of one API family: per organisation and, optionally, per software statement. */
const familySchema = z.strictObject({
  organisation: windowSchema.optional().describe("Requests of one organisation (the certificate's organisation id), across every replica."),
  softwareStatement: windowSchema.optional().describe("Requests of one software statement (the certificate's UID), across every replica."),
});

/** Where the counters live: this host's memory (one process, or the cluster primary shared by the workers), or Redis. */
const storeSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("memory") }),
  z.strictObject(redisStoreShape("Counters limit:<scope>:… under it.")),
]);

/** An API family name as in `/open-banking/<family>/`, or `*` for every family without its own entry. */
const familyName = z.string().regex(/^([a-z0-9][a-z0-9-]{0,62}|\*)$/, "an API family as in /open-banking/<family>/ (or a route name), or *");

/**
 * The top-level `limits` section: per-participant traffic limits per API family, counted across every replica
 * (rate-limiter-flexible, fixed windows), and what a store outage means. The global ceiling is per route
 * (`routes[].globalPerSecond`).
 */
export const limitsSchema = z
  .strictObject({
    store: storeSchema.default({ type: "memory" }),
    onStoreError: z
      .enum(["open", "closed"])
      .default("open")
      .describe(
        "When the counters cannot be reached. open (default): requests are forwarded uncounted — the limits protect the backends' capacity, and an outage of the counters should not become an outage of every API; logged, counted (ofb_edge_limit_store_errors_total) and shown in /readyz while it lasts. closed: 503 TRAFFIC_LIMITS_UNAVAILABLE, and /readyz is not ready.",
      ),
    families: z
      .record(familyName, familySchema)
      .default({})
      .describe("Per API family (the <family> of /open-banking/<family>/…, or the route's name for other paths; * for the rest): the limits of one participant. Over a limit: 429 RATE_LIMIT_EXCEEDED with Retry-After."),
  })
  .describe("Per-participant traffic limits (429) and the routes' global TPS ceilings (529), shared by every replica through the store.");

export type LimitsConfig = z.output<typeof limitsSchema>;
export type LimitWindow = z.output<typeof windowSchema>;

/** The per-route options. */
export const routeLimitsSchema = {
  limits: z
    .enum(["enforce", "off"])
    .optional()
    .describe("enforce: the participant limits of limits.families and this route's globalPerSecond apply. Default: enforce when the limits section exists."),
  globalPerSecond: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .optional()
    .describe("The route's global ceiling: requests per second from every participant together, across every replica; over it, 529 SITE_OVERLOADED (OFB: site overloaded, global TPS limit reached). Needs the limits section."),
};
