import { z } from "zod";
import { redisStoreShape } from "../redis/config.js";

/**
 * JWS algorithms a signed message may use: asymmetric only (never `none` or HS*, RFC 8725 §3.1). The OFB security
 * profile ("Signing algorithm considerations") allows PS256 alone, the default.
 */
export const MESSAGE_ALGORITHMS = ["PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"] as const;

const replayStoreSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("memory") }),
  z.strictObject(redisStoreShape()),
]);

/**
 * The `messageSigning` section: how the edge verifies the signed messages (JWS, `application/jwt`) of the routes
 * that carry them and signs their responses (OFB security profile, "Message Content Signing Considerations (JWS)").
 * Which routes do is each route's `messageSigning`; this section holds what they share.
 */
export const messageSigningSchema = z.strictObject({
  algorithms: z
    .array(z.enum(MESSAGE_ALGORITHMS))
    .min(1)
    .default(["PS256"])
    .describe("JWS algorithms accepted for request messages (OFB: PS256 only). `none` and HS* are never accepted."),
  clockSkewSeconds: z.number().int().min(0).max(300).default(60).describe("A request message's `iat` must be within this many seconds of the edge's clock (OFB: ±60 s)."),
  jtiTtlSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(86_400)
    .describe("How long a request message's `jti` is remembered: a second use within it is refused with 403 (OFB: 24 h)."),
  replayStore: replayStoreSchema
    .default({ type: "memory" })
    .describe("Where used `jti`s are remembered: memory (one edge; its workers share it through the primary process) or redis (every replica; the top-level `redis` section or its own url). Unreachable: signed requests are refused with 503."),
  organisationId: z.uuid().optional().describe("The bank's OFB organisation id: the `iss` of every response the edge signs. Required with signingKey."),
  signingKey: z
    .strictObject({
      file: z.string().min(1).describe("The bank's signing key (the private key of its Directory application key, RSA ≥ 2048 bits for PS256): a PEM file (PKCS#8 or PKCS#1) or a JSON JWK. Re-read on reload and when the file changes."),
      kid: z.string().min(1).max(256).optional().describe("`kid` of the signed responses: the key's `kid` in the bank's application.jwks in the Directory. Default: the JWK file's own `kid` (required with a PEM file)."),
    })
    .optional()
    .describe("The key the edge signs responses with (routes in verify-and-sign). Absent: the edge verifies requests only."),
  sign: z
    .enum(["always", "if-unsigned"])
    .default("always")
    .describe("always: the edge signs every response of a verify-and-sign route (a backend's own JWS is re-signed from its payload). if-unsigned: a response the backend already signed (a JWS other than alg none) keeps its bytes."),
  maxResponseBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024)
    .describe("A response to be signed is read whole first; a larger one is answered with 502 MESSAGE_RESPONSE_TOO_LARGE."),
});

export type MessageSigningConfig = z.output<typeof messageSigningSchema>;

/** `publicBaseUrl` of a listener or route: https, no query or fragment, no trailing `/`. */
export const publicBaseUrlSchema = z
  .url({ protocol: /^https$/ })
  .refine((u) => !/[?#]/.test(u), "no query or fragment")
  .transform((u) => u.replace(/\/+$/, ""));
