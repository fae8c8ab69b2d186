import { z } from "zod";
import { redisStoreShape } from "../redis/config.js";

const positiveMs = (def: number) => z.number().int().positive().default(def);

const HOUR = 3_600_000;

/** Where downloaded CRLs are shared: in this process, or in the Redis every replica uses (one download for all). */
const storeSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("memory") }),
  z.strictObject(redisStoreShape("Keys crl:<ac>, lock:crl:<ac> and channel crl-changed under it; it may be the directory store's prefix.")),
]);

/** SHA-256 of an AC certificate's DER: 64 hex digits, colons allowed (as `policy.allowedIssuers`). */
const acFingerprint = z
  .string()
  .regex(/^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/, "a SHA-256 fingerprint in hex (colons optional)")
  .transform((s) => s.replace(/:/g, "").toLowerCase());

/**
 * OCSP (RFC 6960) for certificates whose issuer offers it (most current ICP-Brasil leaves name a responder; CA
 * certificates never do). An answer decides only while it is fresh and verified; anything else
 * (unknown, an error, a time-out, no answer yet) falls back to the CRL.
 */
const ocspSchema = z.strictObject({
  enabled: z.boolean().default(false).describe("Ask the issuer's OCSP responder first, for certificates whose AC offers one; the CRL stays the fallback."),
  timeoutMs: positiveMs(2_000).describe(
    "Bound on one OCSP exchange (connection, headers and body). A client's first connection waits at most this long for an answer; then the CRL decides.",
  ),
  maxResponseBytes: z.number().int().min(512).default(64 * 1024).describe("Largest OCSP response accepted (a response with a delegated responder's certificate is a few kB)."),
  cacheMaxEntries: z.number().int().positive().default(10_000).describe("Certificates whose OCSP answer is kept (least recently used evicted first)."),
  refreshBeforeMs: positiveMs(5 * 60_000).describe(
    "Ask again this long before a held answer expires, in the background, for certificates presented since it was obtained (never earlier than halfway through its validity).",
  ),
  maxAgeMs: positiveMs(HOUR).describe(
    "How long after its thisUpdate an answer without nextUpdate is used (RFC 6960 §4.2.2.1: no nextUpdate means newer information is always available).",
  ),
  failureCacheMs: positiveMs(60_000).describe(
    "After a failed exchange (responder down, time-out, HTTP error, a response that fails a check) the CRL decides for that certificate this long before its responder is asked again.",
  ),
  nonce: z
    .boolean()
    .default(false)
    .describe(
      "Send a nonce (RFC 8954) in each request; a response echoing a different one is refused. Off by default: RFC 5019 responders serve pre-produced responses and ignore it, and thisUpdate/nextUpdate already bound a replay.",
    ),
  responders: z
    .record(acFingerprint, z.url({ protocol: /^https?$/ }))
    .optional()
    .describe("OCSP responder per AC (SHA-256 of the AC certificate), used for every certificate that AC issued instead of the URL in their Authority Information Access."),
});

/**
 * Revocation by CRL (RFC 5280 §6.3; optionally OCSP first, RFC 6960) for every certificate of a client chain
 * below its root. Mounted as the top-level `revocation` section.
 */
export const revocationSchema = z.strictObject({
  mode: z
    .enum(["crl", "off"])
    .default("crl")
    .describe("crl: every certificate below the trust anchor is checked against its issuer's CRL (after OCSP when ocsp.enabled). off: no revocation checking at all, OCSP included."),
  onStale: z
    .enum(["soft-fail", "hard-fail"])
    .default("soft-fail")
    .describe(
      "What a CRL past its nextUpdate, a CRL that could not be obtained, or an AC with no CRL source at all means. soft-fail: keep serving for graceMs (a CRL never obtained, or no source: accept unchecked, logged and counted), then reject; hard-fail: reject at once, and /readyz is not ready.",
    ),
  graceMs: positiveMs(6 * HOUR).describe(
    "soft-fail only: how long past nextUpdate a CRL keeps serving. ICP-Brasil distribution points are plain-HTTP hosts run by each AC and have been down for hours at a time; " +
      "6 h rides out such an outage, including one that starts just before nextUpdate, without turning it into an outage of every Open Finance API, " +
      "while bounding how long a revocation issued meanwhile can go unseen.",
  ),
  refreshBeforeMs: positiveMs(15 * 60_000).describe("Fetch a new CRL this long before the current one's nextUpdate."),
  minRefreshIntervalMs: positiveMs(5 * 60_000).describe(
    "At most one download per AC this often (per deployment, thanks to the shared store); failed downloads are retried sooner (1 s, 2 s, … up to this).",
  ),
  fetchTimeoutMs: positiveMs(30_000).describe("Bound on one download (headers and body), per distribution point."),
  firstFetchWaitMs: positiveMs(10_000).describe(
    "How long a client's first connection waits for the first CRL of an AC in its chain that was never obtained (connections arriving meanwhile share the one fetch), and how long start-up waits for the CRLs known before any client. " +
      "Past it, or when the fetch fails, onStale decides. 10 s fits a CRL of a few MB (5 MB is 4 s at 10 Mbit/s) from a plain-HTTP distribution point, and stays well inside the 30 s or more that HTTP clients commonly wait for a response.",
  ),
  maxCrlBytes: z.number().int().min(1024).default(64 * 1024 * 1024).describe("Largest CRL accepted; ICP-Brasil CRLs range from a few kB to tens of MB."),
  store: storeSchema.default({ type: "memory" }),
  urls: z
    .record(acFingerprint, z.array(z.url({ protocol: /^https?$/ })).min(1).max(8))
    .optional()
    .describe("Extra CRL distribution points per AC (SHA-256 of the AC certificate), tried before the ones its certificates name: mirrors, tests."),
  crlFiles: z
    .array(z.string().min(1))
    .max(64)
    .default([])
    .describe(
      "Local CRL files or folders (every file in a folder, names starting with '.' skipped): DER, or PEM with one or more X509 CRL blocks. Each CRL serves the AC whose subject is its issuer and whose key verifies it; " +
        "a newer CRL (thisUpdate) wins over an older one whatever its source. Files are read again when they change. For edges that cannot reach the distribution points.",
    ),
  crlFilesCheckMs: z.number().int().min(100).default(10_000).describe("How often crlFiles are looked at for new or changed files (modification time and size)."),
  ocsp: ocspSchema.default(() => ocspSchema.parse({})),
});

export type RevocationConfigInput = z.input<typeof revocationSchema>;
export type RevocationConfig = z.output<typeof revocationSchema>;
export type OcspConfig = RevocationConfig["ocsp"];
