import fc from "fast-check";
import type { VerifiedToken } from "../../src/binding/types.js";
import { withCnpjCheckDigits } from "../../src/pki/test-pki/identifiers.js";
import { fitsStringType, type StringType } from "./property-der.js";
import type { AttributeSpec, CertSpec, SanSpec } from "./property-pki.js";

/**
 * Generators of hostile certificate content: arbitrary Unicode, biased towards what breaks header
 * fields (CR, LF, NUL, TAB, DEL, C1 controls, characters above U+00FF), DN and XFCC syntax (`"` `\` `,`
 * `;` `=` `+` `/` `#` `<` `>`), non-BMP characters, and leading/trailing spaces.
 */

const DANGEROUS = [
  '"', "\\", ",", ";", "=", "+", "/", "#", "<", ">", ":", "%", "'", "\r", "\n", "\r\n", "\u0000", "\t", "\u007f",
  "\u0080", "\u0085", "\u009b", "\u009f", " ", "\u00a0", "\u00e9", "\u00ff", "\u0100", "\u2028", "\ufeff", "\u{1f600}", "\u{10fffd}",
] as const;

const PLAIN = "abcxyzABCXYZ019.-_@".split("");

/** One "character" (sometimes two code points, e.g. CRLF). */
const hostileUnit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...DANGEROUS) },
  { weight: 3, arbitrary: fc.constantFrom(...PLAIN) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }) },
);

/** Characters a header field may carry (RFC 9110 §5.5) that are still special to DN and XFCC syntax. */
const fieldSafeUnit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('"', "\\", ",", ";", "=", "+", "/", "#", "<", ">", " ", "\t", "\u0085", "\u00e9", "\u00ff") },
  { weight: 3, arbitrary: fc.constantFrom(...PLAIN) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 1 }) },
);

const edges = (unit: fc.Arbitrary<string>, maxLength: number) =>
  fc
    .tuple(fc.constantFrom("", "", " ", "  ", "\t", "#"), fc.string({ unit, maxLength }), fc.constantFrom("", "", " ", "\\", "\t", "\r\n"))
    .map(([lead, body, trail]) => lead + body + trail);

/** Arbitrary text for an attribute value or token claim. */
export const hostileText = edges(hostileUnit, 24);

/** Hostile but field-safe text: what reaches the XFCC encoder most often (a SAN with controls is refused earlier). */
export const fieldSafeHostileText = edges(fieldSafeUnit, 24).filter((t) => !/[\r\n]/.test(t));

const STRING_TYPES: readonly StringType[] = ["utf8", "printable", "teletex", "bmp", "universal", "ia5"];

/** An attribute of `oid` with `text`, in a random string type that can hold it (UTF8String otherwise). */
function attribute(oidValue: string, text: fc.Arbitrary<string>): fc.Arbitrary<AttributeSpec & { readonly rank: number }> {
  return fc
    .record({ text, type: fc.constantFrom(...STRING_TYPES), joinPrevious: fc.nat(4).map((n) => n === 0), rank: fc.nat(1000) })
    .map(({ text: t, type, joinPrevious, rank }) => ({ oid: oidValue, text: t, type: fitsStringType(t, type) ? type : "utf8", joinPrevious, rank }));
}

const several = (oidValue: string, text: fc.Arbitrary<string>, max: number) => fc.array(attribute(oidValue, text), { maxLength: max });

export const OID = {
  CN: "2.5.4.3",
  serialNumber: "2.5.4.5",
  C: "2.5.4.6",
  L: "2.5.4.7",
  ST: "2.5.4.8",
  street: "2.5.4.9",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  title: "2.5.4.12",
  businessCategory: "2.5.4.15",
  organizationIdentifier: "2.5.4.97",
  UID: "0.9.2342.19200300.100.1.1",
  DC: "0.9.2342.19200300.100.1.25",
  emailAddress: "1.2.840.113549.1.9.1",
  jurisdictionC: "1.3.6.1.4.1.311.60.2.1.3",
  unknown: "1.3.6.1.4.1.99999.1",
} as const;

/** Attributes no identity rule reads (the leaf may hold any number of each). */
const EXTRA_OIDS = [OID.C, OID.street, OID.title, OID.businessCategory, OID.DC, OID.emailAddress, OID.jurisdictionC, OID.unknown];

const extras = (max: number) => fc.array(fc.constantFrom(...EXTRA_OIDS).chain((o) => attribute(o, hostileText)), { maxLength: max });

/** `OFBBR-` followed by anything: looks like an organisation id to a careless reader. */
const organisationIdLike = fc.oneof(hostileText, hostileText.map((t) => `OFBBR-${t}`));

const cnpj = fc
  .string({ unit: fc.constantFrom(..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("")), minLength: 12, maxLength: 12 })
  .map((base) => withCnpjCheckDigits(base));

/** Sorted by rank, so attribute order and RDN grouping are arbitrary too. */
const inOrder = (groups: readonly (readonly (AttributeSpec & { readonly rank: number })[])[]): AttributeSpec[] =>
  groups
    .flat()
    .sort((a, b) => a.rank - b.rank)
    .map(({ rank: _rank, ...a }) => a);

/**
 * A leaf subject the edge accepts: exactly one organizationIdentifier `OFBBR-<uuid>`, one non-blank UID,
 * at most one valid CNPJ in serialNumber (anything else is an identity rejection before any profile
 * runs); CN, O, OU (some `OFBBR-`-like), L, ST, UID and the extra attributes arbitrary.
 */
const leafSubject = fc
  .tuple(
    several(OID.CN, hostileText, 2),
    several(OID.O, hostileText, 1),
    several(OID.OU, organisationIdLike, 3),
    several(OID.L, hostileText, 1),
    several(OID.ST, hostileText, 1),
    fc.array(attribute(OID.UID, hostileText.filter((t) => t.trim() !== "")), { minLength: 1, maxLength: 1 }),
    fc.array(attribute(OID.organizationIdentifier, fc.uuid().map((u) => `OFBBR-${u}`)), { minLength: 1, maxLength: 1 }),
    several(OID.serialNumber, cnpj, 1),
    extras(3),
  )
  .map(inOrder);

/** The AC's subject: no identity rule reads it, so every attribute is arbitrary, serialNumber and organizationIdentifier included. */
const issuerSubject = fc
  .tuple(
    several(OID.CN, hostileText, 1),
    several(OID.O, hostileText, 1),
    several(OID.OU, organisationIdLike, 2),
    several(OID.L, hostileText, 1),
    several(OID.ST, hostileText, 1),
    several(OID.serialNumber, hostileText, 1),
    several(OID.UID, hostileText, 1),
    several(OID.organizationIdentifier, organisationIdLike, 1),
    extras(2),
  )
  .map(inOrder);

const san: fc.Arbitrary<SanSpec> = fc.record({
  kind: fc.constantFrom("dns" as const, "uri" as const),
  text: fc.oneof({ weight: 3, arbitrary: fieldSafeHostileText }, { weight: 1, arbitrary: hostileText }),
});

/** INTEGER content octets, minimal as OpenSSL requires (X.690 §8.3.2), positive or negative, up to 40 octets. */
const serial = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((octets) => {
  let start = 0;
  while (start < octets.length - 1) {
    const [first, next] = [octets[start]!, octets[start + 1]!];
    if ((first === 0x00 && next < 0x80) || (first === 0xff && next >= 0x80)) start++;
    else break;
  }
  return octets.slice(start);
});

const second = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);
/** Mostly this century (what HAProxy's time format can print), sometimes anywhere in 1950–9999. */
const instant = fc
  .oneof(
    { weight: 3, arbitrary: fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true }) },
    { weight: 1, arbitrary: fc.date({ min: new Date("1950-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }) },
  )
  .map(second);

export const certSpec: fc.Arbitrary<CertSpec> = fc.record({
  subject: leafSubject,
  issuer: issuerSubject,
  sans: fc.array(san, { maxLength: 4 }),
  serial,
  notBefore: instant,
  notAfter: instant,
});

/** The per-request facts a profile may forward: hostile token claims and roles, a UUID interaction id (the edge validates it). */
export const requestFacts = fc.record({
  roles: fc.option(fc.array(hostileText, { maxLength: 3 }), { nil: null }),
  token: fc.option(
    fc.record({
      clientId: fc.option(hostileText, { nil: undefined }),
      sub: fc.option(hostileText, { nil: undefined }),
      scope: fc.option(hostileText, { nil: undefined }),
      exp: fc.option(fc.oneof(fc.integer({ min: 0, max: 4_102_444_800 }), fc.integer()), { nil: undefined }),
    }),
    { nil: undefined },
  ),
  interactionId: fc.uuid(),
});

export type RequestFacts = typeof requestFacts extends fc.Arbitrary<infer T> ? T : never;

/** A {@link VerifiedToken} carrying the generated claims, bound to `thumbprint`. */
export function verifiedToken(claims: NonNullable<RequestFacts["token"]>, thumbprint: string): VerifiedToken {
  return {
    source: "jwt",
    clientId: claims.clientId,
    sub: claims.sub,
    scope: claims.scope,
    scopes: claims.scope === undefined ? [] : claims.scope.split(" ").filter((s) => s !== ""),
    exp: claims.exp,
    confirmation: { ok: true, thumbprint },
  };
}
