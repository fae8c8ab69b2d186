import { decodeDerString, DIRECTORY_STRING_TAGS, readDerElement, toUpperHex } from "./der-string.js";

const SEQUENCE = 0x30;
const SET = 0x31;
const OBJECT_IDENTIFIER = 0x06;

/**
 * A key that two Names share exactly when they match under RFC 5280 §7.1: the same number of RDNs in the
 * same order, each RDN the same set of attribute types, and values compared after the LDAP StringPrep
 * profile (RFC 4518) — so a PrintableString and a UTF8String of the same text match, as do values that
 * differ only in case or in insignificant spaces. Real ICP-Brasil ACs encode their own subject with other
 * string types than the issuer field of the certificates they issue (and of their CRLs), so comparing DER
 * bytes misses real issuers.
 *
 * Values of other types, and strings the profile prohibits (RFC 4518 §2.4: unassigned or private-use code
 * points, non-characters, U+FFFD), are kept as their DER, so they match only byte for byte. A Name that is
 * not DER at all has a key of its own bytes. Throws nothing.
 */
export function nameKey(nameDer: Uint8Array): string {
  const rdns = children(nameDer, SEQUENCE);
  if (rdns === null) return `!${toUpperHex(nameDer)}`;
  const parts: string[] = [];
  for (const rdn of rdns) {
    if (rdn.tag !== SET) return `!${toUpperHex(nameDer)}`;
    const atvs = children(rdn.der, SET);
    if (atvs === null || atvs.length === 0) return `!${toUpperHex(nameDer)}`;
    const keys: string[] = [];
    for (const atv of atvs) {
      const fields = atv.tag === SEQUENCE ? children(atv.der, SEQUENCE) : null;
      if (fields === null || fields.length !== 2 || fields[0]!.tag !== OBJECT_IDENTIFIER) return `!${toUpperHex(nameDer)}`;
      keys.push(`${toUpperHex(fields[0]!.der)}=${valueKey(fields[1]!.der)}`);
    }
    // RFC 5280 §7.1: an RDN is a set; its attributes match in any order.
    parts.push(keys.sort().join("+"));
  }
  return parts.join(",");
}

/** True when the two DER Names match under RFC 5280 §7.1 (see {@link nameKey}). */
export function namesMatch(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length === b.length && Buffer.compare(a, b) === 0) return true;
  return nameKey(a) === nameKey(b);
}

function valueKey(der: Uint8Array): string {
  const text = decodeDerString(der, DIRECTORY_STRING_TAGS);
  const prepared = text === null ? null : prepare(text);
  return prepared === null ? `#${toUpperHex(der)}` : `"${prepared.replace(/["\\]/g, "\\$&")}"`;
}

// RFC 4518 §2.2: code points mapped to nothing (soft hyphen, variation selectors, controls, …) and to SPACE.
const MAPPED_TO_NOTHING = /[\u00AD\u1806\u034F\u180B-\u180D\uFE00-\uFE0F\uFFFC\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F\u200B]/gu;
const MAPPED_TO_SPACE = /[\u0009-\u000D\u0085\u2028\u2029\p{Zs}]/gu;
// RFC 4518 §2.4: unassigned and private-use code points, non-characters, lone surrogates and U+FFFD.
const PROHIBITED = /[\p{Cn}\p{Co}\p{Cs}\uFFFD]/u;

const fold = (text: string) => text.toUpperCase().toLowerCase();

/**
 * RFC 4518 string preparation for caseIgnoreMatch: map, case fold, NFKC, prohibit, then insignificant space
 * handling (§2.6.1: leading and trailing spaces dropped, inner runs of spaces count as one). `null` when the
 * string holds a prohibited code point.
 */
function prepare(text: string): string | null {
  const mapped = text.replace(MAPPED_TO_NOTHING, "").replace(MAPPED_TO_SPACE, " ");
  // Folding again after NFKC catches characters whose compatibility form has case (RFC 3454 table B.2's purpose).
  const normalised = fold(fold(mapped).normalize("NFKC")).normalize("NFKC");
  if (PROHIBITED.test(normalised)) return null;
  return normalised.trim().replace(/ {2,}/g, " ");
}

/** The elements inside one constructed DER element of tag `tag` that spans `der` exactly; null when it does not. */
function children(der: Uint8Array, tag: number): { tag: number; der: Uint8Array }[] | null {
  const outer = readDerElement(der);
  if (outer === null || outer.tag !== tag || outer.encodedLength !== der.length) return null;
  const out: { tag: number; der: Uint8Array }[] = [];
  let rest = outer.content;
  while (rest.length > 0) {
    const e = readDerElement(rest);
    if (e === null) return null;
    out.push({ tag: e.tag, der: rest.subarray(0, e.encodedLength) });
    rest = rest.subarray(e.encodedLength);
  }
  return out;
}
