import { z } from "zod";

/**
 * The header-profile document (docs/architecture.md §Header profiles): a JSON file naming the headers a backend
 * expects and how each value is produced. It is the only description of the format: `schema/profile.schema.json`
 * (for editor completion) is generated from it by `npm run schema`. Unknown keys are errors everywhere.
 */

/** RFC 9110 §5.6.2 `token`: a field name. */
const fieldName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "an HTTP field name (RFC 9110 §5.6.2 token)");

export const CERT_ENCODINGS = ["sf-binary", "der-base64", "pem-urlencoded", "pem-urlencoded-aws", "pem-tab", "pem-space"] as const;
export const DN_FORMATS = ["rfc2253", "rfc2253-utf8", "oneline", "haproxy-oneline", "ofb-rfc4514", "der-base64"] as const;
export const SERIAL_FORMATS = ["hex-upper", "hex-lower", "hex-upper-colon", "hex-lower-colon", "decimal"] as const;
export const DIGEST_FORMATS = ["hex-lower", "hex-upper", "hex-upper-colon", "hex-lower-colon", "base64", "base64url"] as const;
export const TIME_FORMATS = ["rfc3339", "unix", "openssl", "generalized", "haproxy"] as const;
export const XFCC_FIELDS = ["By", "Hash", "Cert", "Chain", "Subject", "URI", "DNS"] as const;
/** Traefik's DN attributes (pass_tls_client_cert.go getSubjectDNInfo), written in this order whatever the list's order. */
export const TRAEFIK_DN_FIELDS = ["DC", "C", "ST", "L", "O", "OU", "SN", "CN"] as const;

/** What a header carries. Certificate sources read the verified client certificate; the rest, the request's verified facts. */
export const SOURCES = {
  leaf: "the client certificate (encoding)",
  chain: "the certificates the client sent (encoding, chain)",
  subject: "the leaf's subject DN (dnFormat)",
  issuer: "the leaf's issuer DN (dnFormat)",
  serial: "the leaf's serial number (serialFormat)",
  "fingerprint-sha256": "SHA-256 of the leaf's DER (digestFormat)",
  "fingerprint-sha1": "SHA-1 of the leaf's DER (digestFormat), for backends that still key on it",
  "x5t#S256": "RFC 8705 thumbprint: base64url SHA-256, no padding",
  "san-dns": "the leaf's DNS subjectAltNames (separator)",
  "san-uri": "the leaf's URI subjectAltNames (separator)",
  "not-before": "validity start (timeFormat)",
  "not-after": "validity end (timeFormat)",
  validity: "AWS ALB form: NotBefore=…;NotAfter=… (timeFormat)",
  present: "`value` (default \"true\") when a verified certificate is present (verify results, presence flags)",
  "organisation-id": "the OFB organisation id from the certificate",
  "software-statement-id": "the OFB software statement id (UID) from the certificate",
  cnpj: "the CNPJ from the certificate",
  "cnpj-verified": "\"true\" when the certificate's CNPJ passed its check digits, \"false\" when it was accepted unverified (policy.cnpj flag); nothing without a CNPJ",
  roles: "the organisation's Active Directory roles, on routes that checked the Directory (separator)",
  "client-id": "client_id of the verified, certificate-bound access token",
  scope: "scope of the verified, certificate-bound access token",
  sub: "sub of the verified, certificate-bound access token",
  "token-exp": "exp of the verified, certificate-bound access token (timeFormat)",
  "interaction-id": "the request's x-fapi-interaction-id",
  "jws-jti": "jti of the request's signed message, once verified (routes with messageSigning verify or verify-and-sign)",
  "jws-iat": "iat of the request's signed message, once verified (timeFormat)",
  "jws-kid": "kid of the organisation key that signed the request's message, once verified",
  constant: "`value`, always",
  xfcc: "Envoy x-forwarded-client-cert, SANITIZE_SET semantics: one element for this client (xfcc)",
  "traefik-info": "Traefik X-Forwarded-Tls-Client-Cert-Info: the selected facts of every certificate the client sent, query-escaped (traefikInfo)",
} as const;
export type Source = keyof typeof SOURCES;
const SOURCE_NAMES = Object.keys(SOURCES) as [Source, ...Source[]];

export const headerSchema = z
  .strictObject({
    name: fieldName,
    source: z.enum(SOURCE_NAMES).describe(Object.entries(SOURCES).map(([k, v]) => `${k}: ${v}`).join("; ")),
    encoding: z.enum(CERT_ENCODINGS).optional().describe("leaf, chain: how each certificate is written"),
    chain: z
      .strictObject({
        includeLeaf: z.boolean().default(false).describe("RFC 9440, Cloudflare, GCP, HAProxy, Apache exclude the leaf; Envoy Chain, Traefik, ALB passthrough include it"),
        separator: z.string().default(", ").describe("Between certificates (sf-binary lists: \", \"; pem encodings are concatenated)"),
      })
      .optional(),
    dnFormat: z.enum(DN_FORMATS).optional(),
    serialFormat: z.enum(SERIAL_FORMATS).optional(),
    digestFormat: z.enum(DIGEST_FORMATS).optional(),
    timeFormat: z.enum(TIME_FORMATS).optional(),
    separator: z.string().optional().describe("san-dns, san-uri, roles: between list items (default \",\")"),
    value: z.string().optional().describe("constant: the value; present: the value when present (default \"true\")"),
    xfcc: z
      .strictObject({
        fields: z.array(z.enum(XFCC_FIELDS)).min(1).describe("In this order; Hash is always sent by Envoy"),
        by: z.string().optional().describe("By=: the URI SAN of the edge's own certificate"),
        subjectFormat: z.enum(["rfc2253", "oneline"]).default("rfc2253"),
      })
      .optional(),
    traefikInfo: z
      .strictObject({
        subject: z
          .array(z.enum(TRAEFIK_DN_FIELDS))
          .optional()
          .describe("Subject=\"…\": these attributes, always in Traefik's order DC, C, ST, L, O, OU, SN, CN; absent: no Subject"),
        issuer: z
          .array(z.enum(TRAEFIK_DN_FIELDS).exclude(["OU"]))
          .optional()
          .describe("Issuer=\"…\": these attributes, always in Traefik's order DC, C, ST, L, O, SN, CN (Traefik has no issuer OU); absent: no Issuer"),
        serialNumber: z.boolean().default(false).describe("SerialNumber=\"<decimal>\""),
        notBefore: z.boolean().default(false).describe("NB=\"<unix seconds>\""),
        notAfter: z.boolean().default(false).describe("NA=\"<unix seconds>\""),
        sans: z.boolean().default(false).describe("SAN=\"<DNS names>,<e-mail addresses>,<IP addresses>,<URIs>\""),
      })
      .optional(),
    quote: z.boolean().default(false).describe("Wrap the value in double quotes (HAProxy %{+Q})"),
    whenAbsent: z
      .union([z.enum(["omit", "empty"]), z.strictObject({ value: z.string() })])
      .default("omit")
      .describe('Without the value: omit the header, send it empty, or send a literal (e.g. {"value": "NONE"})'),
    maxBytes: z.number().int().min(1).max(1 << 20).optional().describe("Largest value sent"),
    onOversize: z
      .union([z.enum(["omit", "reject"]), z.strictObject({ flag: fieldName, value: z.string().default("true") })])
      .default("omit")
      .describe("A larger value: omit the header, reject the request with 431, or omit it and set a flag header"),
  })
  .superRefine((h, ctx) => {
    const s = h.source;
    const cert = s === "leaf" || s === "chain";
    const time = s === "not-before" || s === "not-after" || s === "validity" || s === "token-exp" || s === "jws-iat";
    const list = s === "san-dns" || s === "san-uri" || s === "roles";
    // [key, required for this source, allowed for this source]
    const rules: [keyof ProfileHeaderInput, boolean, boolean][] = [
      ["encoding", cert, cert],
      ["chain", false, s === "chain"],
      ["dnFormat", s === "subject" || s === "issuer", s === "subject" || s === "issuer"],
      ["serialFormat", s === "serial", s === "serial"],
      ["digestFormat", s === "fingerprint-sha256" || s === "fingerprint-sha1", s === "fingerprint-sha256" || s === "fingerprint-sha1"],
      ["timeFormat", time, time],
      ["value", s === "constant", s === "constant" || s === "present"],
      ["separator", false, list],
      ["xfcc", s === "xfcc", s === "xfcc"],
      ["traefikInfo", s === "traefik-info", s === "traefik-info"],
    ];
    for (const [key, required, allowed] of rules) {
      if (required && h[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: `required for source '${s}'` });
      if (!allowed && h[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `not used by source '${s}'` });
    }
    // nginx's $ssl_client_cert puts a line feed before every TAB: a header field cannot carry it (RFC 9110 §5.5).
    if (h.encoding === "pem-tab") ctx.addIssue({ code: "custom", path: ["encoding"], message: "pem-tab contains line feeds, which a header field cannot carry (RFC 9110 §5.5); use pem-urlencoded" });
    if (h.maxBytes === undefined && h.onOversize !== "omit") ctx.addIssue({ code: "custom", path: ["onOversize"], message: "needs maxBytes" });
  });

type ProfileHeaderInput = {
  encoding?: unknown;
  chain?: unknown;
  dnFormat?: unknown;
  serialFormat?: unknown;
  digestFormat?: unknown;
  timeFormat?: unknown;
  value?: unknown;
  separator?: unknown;
  xfcc?: unknown;
  traefikInfo?: unknown;
};

export const profileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and '-', at most 63 characters"),
    description: z.string().min(1),
    headers: z.array(headerSchema).min(1),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, number>();
    p.headers.forEach((h, i) => {
      const names = [h.name.toLowerCase(), ...(typeof h.onOversize === "object" ? [h.onOversize.flag.toLowerCase()] : [])];
      for (const n of names) {
        if (seen.has(n) && seen.get(n) !== i) ctx.addIssue({ code: "custom", path: ["headers", i, "name"], message: `header '${n}' already set by headers[${seen.get(n)}]` });
        seen.set(n, i);
      }
    });
  });

export type ProfileHeader = z.output<typeof headerSchema>;
export type Profile = z.output<typeof profileSchema>;

/** The profile document's JSON Schema (draft 2020-12), generated from the zod schema. */
export function profileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(profileSchema, { io: "input", unrepresentable: "any" }),
    $id: "https://github.com/ofb-edge/ofb-edge/schema/profile.schema.json",
    title: "ofb-edge header profile",
  };
}
