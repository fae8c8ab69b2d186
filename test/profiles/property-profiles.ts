import { compileProfile, type CompiledProfile } from "../../src/profiles/engine.js";
import { loadProfiles, readProfileFile } from "../../src/profiles/load.js";
import {
  CERT_ENCODINGS,
  DIGEST_FORMATS,
  DN_FORMATS,
  SERIAL_FORMATS,
  TIME_FORMATS,
  TRAEFIK_DN_FIELDS,
  XFCC_FIELDS,
  headerSchema,
  profileSchema,
  type Profile,
  type Source,
} from "../../src/profiles/schema.js";

/**
 * The profiles the properties run: every built-in as loaded, and a custom profile with every source in
 * every format the schema accepts. Each is also split into one-header profiles, so a header that is
 * refused does not hide what the others would send.
 */

/** The values of `key` the schema accepts for a header of `source` (pem-tab, for one, it refuses). */
function accepted<T extends string>(source: Source, key: string, values: readonly T[]): T[] {
  return values.filter((value) => headerSchema.safeParse({ name: "x", source, [key]: value }).success);
}

const encodings = accepted("leaf", "encoding", CERT_ENCODINGS);
const dnFormats = accepted("subject", "dnFormat", DN_FORMATS);
const serialFormats = accepted("serial", "serialFormat", SERIAL_FORMATS);
const digestFormats = accepted("fingerprint-sha256", "digestFormat", DIGEST_FORMATS);
const timeFormats = accepted("not-before", "timeFormat", TIME_FORMATS);

const each = <K extends string, V>(key: K, values: readonly V[]) => values.map((value) => ({ [key]: value }) as Record<K, V>);

/**
 * Header variants per source. `satisfies Record<Source, …>`: a new source fails to compile until it is
 * covered here. `onOversize: "reject"` is left out: its PROFILE_HEADER_TOO_LARGE is a size limit, not a
 * character rejection.
 */
const VARIANTS = {
  leaf: [...each("encoding", encodings), { encoding: "pem-urlencoded", maxBytes: 1200, onOversize: { flag: "x-p-leaf-oversize" } }],
  chain: [...each("encoding", encodings), ...encodings.map((encoding) => ({ encoding, chain: { includeLeaf: true, separator: "," } }))],
  subject: [...each("dnFormat", dnFormats), { dnFormat: "oneline", quote: true }],
  issuer: [...each("dnFormat", dnFormats), { dnFormat: "rfc2253", quote: true }],
  serial: each("serialFormat", serialFormats),
  "fingerprint-sha256": each("digestFormat", digestFormats),
  "fingerprint-sha1": each("digestFormat", digestFormats),
  "x5t#S256": [{}],
  "san-dns": [{}, { separator: " | ", whenAbsent: "empty" }],
  "san-uri": [{}, { separator: ";", whenAbsent: { value: "NONE" } }, { maxBytes: 40, onOversize: "omit" }],
  "not-before": each("timeFormat", timeFormats),
  "not-after": each("timeFormat", timeFormats),
  validity: each("timeFormat", timeFormats),
  present: [{}, { value: "SUCCESS" }],
  "organisation-id": [{}],
  "software-statement-id": [{}, { maxBytes: 16, onOversize: { flag: "x-p-ssid-oversize", value: "1" } }],
  cnpj: [{}, { whenAbsent: { value: "(null)" } }],
  "cnpj-verified": [{}, { whenAbsent: { value: "(no CNPJ)" } }],
  roles: [{}, { separator: " " }],
  "client-id": [{}],
  scope: [{}],
  sub: [{}],
  "token-exp": each("timeFormat", timeFormats),
  "interaction-id": [{}],
  "jws-jti": [{}],
  "jws-iat": each("timeFormat", timeFormats),
  "jws-kid": [{}],
  constant: [{ value: "fixed" }],
  xfcc: [
    { xfcc: { fields: [...XFCC_FIELDS], by: "spiffe://edge.test/a;b=c,d", subjectFormat: "oneline" } },
    { xfcc: { fields: ["URI", "Subject", "DNS", "Hash"], subjectFormat: "rfc2253" } },
  ],
  "traefik-info": [
    { traefikInfo: { subject: [...TRAEFIK_DN_FIELDS], issuer: TRAEFIK_DN_FIELDS.filter((f) => f !== "OU"), serialNumber: true, notBefore: true, notAfter: true, sans: true } },
    { traefikInfo: { subject: ["CN", "O"] } },
  ],
} satisfies Record<Source, readonly object[]>;

/** The custom profile, validated (and given its defaults) by the real schema. */
export function customProfile(): Profile {
  const headers = Object.entries(VARIANTS).flatMap(([source, variants]) =>
    (variants as readonly object[]).map((variant, i) => ({ name: `x-p-${source.replace(/[^a-z0-9]+/gi, "-")}-${i}`, source, ...variant })),
  );
  return profileSchema.parse({ name: "property-all-sources", description: "every source in every format the schema accepts", headers });
}

/** The formats the custom profile covers, for the test to assert against the brief's list. */
export const COVERED = { encodings, dnFormats, serialFormats, digestFormats, timeFormats } as const;

/** A profile and its one-header parts, compiled. */
export interface ProfileUnderTest {
  readonly profile: Profile;
  readonly whole: CompiledProfile;
  readonly parts: readonly CompiledProfile[];
}

function underTest(profile: Profile, whole: CompiledProfile = compileProfile(profile)): ProfileUnderTest {
  const parts = profile.headers.map((h, i) => compileProfile({ ...profile, name: `${profile.name}-${i}`, headers: [h] }));
  return { profile, whole, parts };
}

/** Every built-in profile as `loadProfiles` loads it, then the custom profile. */
export function profilesUnderTest(): ProfileUnderTest[] {
  const loaded = loadProfiles();
  const builtIns = [...loaded.sources].map(([profileName, file]) => underTest(readProfileFile(file), loaded.byName.get(profileName)!));
  return [...builtIns, underTest(customProfile())];
}
