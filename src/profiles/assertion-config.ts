import { z } from "zod";

/** RFC 9110 §5.1: a field name is a token (§5.6.2 tchar). */
const fieldName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "an HTTP field name (RFC 9110 token)");

/**
 * The `identityAssertion` section: the edge signs the verified identity into a short-lived JWS and sends it to
 * the backend in one request header, so the backend can tell the edge's requests from anything else that
 * reaches it (origin protection). The public key is served as a JWK Set on the admin listener.
 */
export const identityAssertionSchema = z.strictObject({
  header: fieldName
    .default("x-ofb-identity-assertion")
    .describe("Request header that carries the assertion to the backend (sent in lower case)."),
  key: z
    .string()
    .min(1)
    .describe("PEM file: the unencrypted private key that signs the assertion (PKCS#8, SEC1 or PKCS#1). ES256 needs a P-256 key, PS256 an RSA key of at least 2048 bits."),
  algorithm: z
    .enum(["PS256", "ES256"])
    .default("ES256")
    .describe("JWS algorithm of the assertion. ES256 (default) signs an order of magnitude faster than PS256."),
  kid: z
    .string()
    .min(1)
    .optional()
    .describe("`kid` of the assertion's header and of the published JWK; default: the key's RFC 7638 JWK thumbprint (SHA-256)."),
  issuer: z.string().min(1).default("ofb-edge").describe("`iss` of the assertion; the backend checks it."),
  lifetimeSeconds: z
    .number()
    .int()
    .min(5)
    .max(300)
    .default(60)
    .describe("`exp` − `iat` of the assertion, in seconds: long enough for the backend's clock skew, short enough that a leaked one is soon useless."),
});

export type IdentityAssertionConfig = z.output<typeof identityAssertionSchema>;
