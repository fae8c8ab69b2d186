import { createHash } from "node:crypto";
import type { VerifiedToken } from "../binding/types.js";
import type { VerifiedClient } from "../connection/peer-state.js";
import type { VerifiedMessage } from "../messages/signing-verify.js";
import { EdgeError } from "../errors.js";
import { certificateParts } from "../identity/parse.js";
import {
  encodeCertificate,
  encodeCertificates,
  formatDigest,
  formatName,
  formatSerial,
  formatTime,
  isSafeFieldValue,
  subjectAltNames,
  xfccElement,
} from "./formats.js";
import { traefikInfo } from "./format-traefik.js";
import type { Profile, ProfileHeader } from "./schema.js";

/** The verified facts of one request that a profile may forward. */
export interface ProfileInput {
  readonly client: VerifiedClient | null;
  /** The organisation's Active roles, when the route checked the Directory. */
  readonly roles: readonly string[] | null;
  /** The verified access token, when the route checked one and it is bound to this certificate. */
  readonly token: VerifiedToken | undefined;
  readonly interactionId: string;
  /** The request's verified signed message, on routes that verify them. */
  readonly message?: VerifiedMessage | undefined;
}

/** A profile ready to run: header values that depend only on the certificate are computed once per certificate. */
export interface CompiledProfile {
  readonly name: string;
  /** Every field this profile can emit, lower case (its flags included): the sanitizer strips them all. */
  readonly headerNames: readonly string[];
  /** Appends `name, value` pairs for this request to `out`. */
  emit(input: ProfileInput, out: string[]): void;
}

/** What the certificate-derived sources read, computed once per verified client. */
interface CertFacts {
  readonly leaf: Uint8Array;
  readonly presented: readonly Uint8Array[];
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly serial: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly san: { readonly dns: readonly string[]; readonly uri: readonly string[] };
}

const factsByClient = new WeakMap<VerifiedClient, CertFacts>();

function certFacts(client: VerifiedClient): CertFacts {
  let facts = factsByClient.get(client);
  if (!facts) {
    const leafInfo = client.verdict.chain[0]!;
    // The leaf parsed when the connection's identity was read; a verified client's leaf always decodes.
    const parts = certificateParts(leafInfo.der)!;
    facts = {
      leaf: leafInfo.der,
      presented: client.verdict.presented,
      subjectDer: parts.subject,
      issuerDer: parts.issuer,
      serial: new Uint8Array(parts.certificate.tbsCertificate.serialNumber),
      notBefore: leafInfo.notBefore,
      notAfter: leafInfo.notAfter,
      san: subjectAltNames(leafInfo.der),
    };
    factsByClient.set(client, facts);
  }
  return facts;
}

/** Sources whose value depends only on the verified certificate, or on nothing (cached per certificate). */
const CERTIFICATE_SOURCES: ReadonlySet<string> = new Set([
  "constant",
  "leaf",
  "chain",
  "subject",
  "issuer",
  "serial",
  "fingerprint-sha256",
  "fingerprint-sha1",
  "x5t#S256",
  "san-dns",
  "san-uri",
  "not-before",
  "not-after",
  "validity",
  "present",
  "organisation-id",
  "software-statement-id",
  "cnpj",
  "cnpj-verified",
  "xfcc",
  "traefik-info",
]);

type Value = string | null;

/** One header's value for a request, or null when its source has nothing to say. */
function valueOf(h: ProfileHeader, input: ProfileInput): Value {
  const { client } = input;
  switch (h.source) {
    case "constant":
      return h.value!;
    case "interaction-id":
      return input.interactionId;
    case "roles":
      return input.roles === null ? null : input.roles.join(h.separator ?? ",");
    case "client-id":
      return input.token?.clientId ?? null;
    case "scope":
      return input.token?.scope ?? null;
    case "sub":
      return input.token?.sub ?? null;
    case "token-exp":
      return input.token?.exp === undefined ? null : formatTime(new Date(input.token.exp * 1000), h.timeFormat!);
    case "jws-jti":
      return input.message?.jti ?? null;
    case "jws-iat":
      return input.message === undefined ? null : formatTime(new Date(input.message.iat * 1000), h.timeFormat!);
    case "jws-kid":
      return input.message?.kid ?? null;
    default:
      return client === null ? null : certificateValue(h, client);
  }
}

function certificateValue(h: ProfileHeader, client: VerifiedClient): Value {
  const f = certFacts(client);
  switch (h.source) {
    case "leaf":
      return encodeCertificate(f.leaf, h.encoding!);
    case "chain": {
      const certs = h.chain?.includeLeaf ? f.presented : f.presented.slice(1);
      return certs.length === 0 ? null : encodeCertificates(certs, h.encoding!, h.chain?.separator ?? ", ");
    }
    case "subject":
      return formatName(f.subjectDer, h.dnFormat!);
    case "issuer":
      return formatName(f.issuerDer, h.dnFormat!);
    case "serial":
      return formatSerial(f.serial, h.serialFormat!);
    case "fingerprint-sha256":
      return formatDigest(createHash("sha256").update(f.leaf).digest(), h.digestFormat!);
    case "fingerprint-sha1":
      return formatDigest(createHash("sha1").update(f.leaf).digest(), h.digestFormat!);
    case "x5t#S256":
      return client.thumbprint;
    case "san-dns":
      return f.san.dns.length === 0 ? null : f.san.dns.join(h.separator ?? ",");
    case "san-uri":
      return f.san.uri.length === 0 ? null : f.san.uri.join(h.separator ?? ",");
    case "not-before":
      return formatTime(f.notBefore, h.timeFormat!);
    case "not-after":
      return formatTime(f.notAfter, h.timeFormat!);
    case "validity":
      return `NotBefore=${formatTime(f.notBefore, h.timeFormat!)};NotAfter=${formatTime(f.notAfter, h.timeFormat!)}`;
    case "present":
      return h.value ?? "true";
    case "organisation-id":
      return client.identity.organisationId;
    case "software-statement-id":
      return client.identity.softwareStatementId;
    case "cnpj":
      return client.identity.cnpj;
    case "cnpj-verified":
      return client.identity.cnpj === null ? null : String(client.identity.cnpjVerified);
    case "xfcc":
      return xfcc(h, f);
    case "traefik-info":
      return traefikInfo(f.presented, h.traefikInfo!);
    default:
      return null;
  }
}

/**
 * Envoy SANITIZE_SET (Envoy headers.rst, x-forwarded-client-cert): one element describing this client, keys in the
 * configured order.
 */
function xfcc(h: ProfileHeader, f: CertFacts): string {
  const x = h.xfcc!;
  const pairs: [string, string, boolean?][] = [];
  for (const field of x.fields) {
    switch (field) {
      case "By":
        if (x.by !== undefined) pairs.push(["By", x.by]);
        break;
      case "Hash":
        pairs.push(["Hash", createHash("sha256").update(f.leaf).digest("hex")]);
        break;
      case "Cert":
        pairs.push(["Cert", encodeCertificate(f.leaf, "pem-urlencoded"), true]);
        break;
      case "Chain":
        pairs.push(["Chain", encodeCertificates(f.presented, "pem-urlencoded", ""), true]);
        break;
      case "Subject":
        pairs.push(["Subject", formatName(f.subjectDer, x.subjectFormat), true]);
        break;
      case "URI":
        for (const u of f.san.uri) pairs.push(["URI", u]);
        break;
      case "DNS":
        for (const d of f.san.dns) pairs.push(["DNS", d]);
        break;
    }
  }
  return xfccElement(pairs);
}

/** What the profile sends for one header given its value: [name, value] pairs, or a rejection. */
function finish(h: ProfileHeader, value: Value, profile: string): string[] {
  if (value === null) {
    if (h.whenAbsent === "omit") return [];
    return [h.name, h.whenAbsent === "empty" ? "" : h.whenAbsent.value];
  }
  const v = h.quote ? `"${value}"` : value;
  if (!isSafeFieldValue(v)) {
    // Never let a certificate field break out of its header (RFC 9110 §5.5): refuse rather than emit.
    throw new EdgeError("PROFILE_VALUE_UNSAFE", "profiles", `profile ${profile}: the value for ${h.name} contains characters not allowed in a header field`);
  }
  if (h.maxBytes !== undefined && Buffer.byteLength(v) > h.maxBytes) {
    const action = h.onOversize;
    if (action === "reject") throw new EdgeError("PROFILE_HEADER_TOO_LARGE", "profiles", `profile ${profile}: ${h.name} would be ${Buffer.byteLength(v)} bytes, over its maxBytes ${h.maxBytes}`);
    if (action === "omit") return [];
    return [action.flag, action.value];
  }
  return [h.name, v];
}

/**
 * Compiles a validated profile. The certificate-derived part of its output is computed once per verified
 * certificate (the peer state is shared by every connection from the same chain) and reused; the rest
 * (roles, token claims, interaction id) per request.
 */
export function compileProfile(profile: Profile): CompiledProfile {
  const fixed = profile.headers.filter((h) => CERTIFICATE_SOURCES.has(h.source));
  const perRequest = profile.headers.filter((h) => !CERTIFICATE_SOURCES.has(h.source));
  type Cached = { readonly out: readonly string[] } | { readonly error: EdgeError };
  const byClient = new WeakMap<VerifiedClient, Cached>();
  let withoutClient: Cached | undefined;

  function certificatePart(input: ProfileInput): Cached {
    const hit = input.client ? byClient.get(input.client) : withoutClient;
    if (hit) return hit;
    let entry: Cached;
    try {
      entry = { out: fixed.flatMap((h) => finish(h, valueOf(h, input), profile.name)) };
    } catch (err) {
      if (!(err instanceof EdgeError)) throw err;
      entry = { error: err };
    }
    if (input.client) byClient.set(input.client, entry);
    else withoutClient = entry;
    return entry;
  }

  const headerNames = [
    ...new Set(profile.headers.flatMap((h) => [h.name.toLowerCase(), ...(typeof h.onOversize === "object" ? [h.onOversize.flag.toLowerCase()] : [])])),
  ];
  return {
    name: profile.name,
    headerNames,
    emit(input, out) {
      const part = certificatePart(input);
      if ("error" in part) throw part.error;
      for (const v of part.out) out.push(v);
      for (const h of perRequest) for (const v of finish(h, valueOf(h, input), profile.name)) out.push(v);
    },
  };
}
