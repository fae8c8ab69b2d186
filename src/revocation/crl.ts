import { AsnConvert } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  CRLReason,
  CRLReasons,
  Extensions,
  IssuingDistributionPoint,
  RevokedCertificate,
  Time,
  id_ce_cRLReasons,
  id_ce_deltaCRLIndicator,
  id_ce_issuingDistributionPoint,
} from "@peculiar/asn1-x509";
import { DerError, TAG, expectTlv, isOid, readTlv, type Tlv } from "./der.js";
import { NO_SERIALS, createSerialIndex, normalisedSerial, type SerialIndex } from "./serial-index.js";

/**
 * A CRL (RFC 5280 §5) split into what verification needs and an index of its revoked serial numbers. Nothing
 * here is trusted until {@link verifyCrl} has checked the signature against the issuing AC.
 */
export interface ParsedCrl {
  readonly der: Uint8Array;
  /** The signed bytes: the DER of `tbsCertList`. */
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signature: Uint8Array;
  /** The issuer Name's DER, compared with the AC's subject per RFC 5280 §7.1 (as chain building does). */
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: number;
  /** RFC 5280 §5.1.2.5: conforming CAs always include it; a CRL without it is refused (freshness unbounded). */
  readonly nextUpdate: number;
  /** Revoked serial → offset of its `revokedCertificates` entry in `der`. */
  readonly revoked: SerialIndex;
}

/** A revoked certificate's entry, decoded when a check finds it. */
export interface RevokedEntry {
  readonly revokedAt: Date;
  /** RFC 5280 §5.3.1 reason name; `unspecified` when the entry has none. */
  readonly reason: string;
}

/** Why a CRL is refused; the message says what was wrong (never secret: CRLs are public). */
export class CrlError extends Error {
  override readonly name = "CrlError";
}

// OID content bytes (X.690 §8.19) of the CRL entry extensions met while indexing.
const REASON_CODE = Uint8Array.of(0x55, 0x1d, 0x15); // 2.5.29.21
const INVALIDITY_DATE = Uint8Array.of(0x55, 0x1d, 0x18); // 2.5.29.24
const CERTIFICATE_ISSUER = Uint8Array.of(0x55, 0x1d, 0x1d); // 2.5.29.29
const REMOVE_FROM_CRL = CRLReasons.removeFromCRL;

const PEM = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]*?)-----END X509 CRL-----/g;

/**
 * The CRLs in a body or file: DER as RFC 5280 §4.2.1.13 says a distribution point serves it, or PEM (RFC 7468
 * §5, `X509 CRL`) with one or more CRLs, LF or CRLF, text around the blocks ignored. Throws {@link CrlError}
 * when it is neither. Nothing is parsed beyond the encoding: see {@link parseCrl}.
 */
export function crlDers(body: Uint8Array): Uint8Array[] {
  if (body[0] === TAG.sequence) return [body];
  const blocks = [...Buffer.from(body).toString("latin1").matchAll(PEM)];
  if (blocks.length === 0) throw new CrlError("neither DER nor a PEM X509 CRL");
  return blocks.map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64")));
}

/**
 * The issuer Name's DER of a CRL, read without parsing the rest (choosing, among several CRLs, the one an AC
 * issued). Throws {@link CrlError} when the CRL is malformed that far.
 */
export function crlIssuerDer(der: Uint8Array): Uint8Array {
  try {
    const list = expectTlv(der, 0, der.length, TAG.sequence, "CertificateList");
    const tbs = expectTlv(der, list.content, list.end, TAG.sequence, "tbsCertList");
    let field = readTlv(der, tbs.content, tbs.end);
    if (field.tag === TAG.integer) field = readTlv(der, field.end, tbs.end);
    return slice(der, expectTlv(der, field.end, tbs.end, TAG.sequence, "issuer"));
  } catch (err) {
    throw new CrlError(`malformed CRL: ${(err as Error).message}`, { cause: err });
  }
}

/** Entries indexed between two yields to the event loop: a CRL of a million entries never stalls requests for long. */
const SLICE = 20_000;

/**
 * Parses a DER CRL. Throws {@link CrlError} for anything malformed, truncated or outside what this stage
 * supports. Large CRLs are indexed in slices, yielding to the event loop in between.
 */
export async function parseCrl(der: Uint8Array): Promise<ParsedCrl> {
  try {
    return await parse(der);
  } catch (err) {
    if (err instanceof CrlError) throw err;
    throw new CrlError(`malformed CRL: ${(err as Error).message}`, { cause: err });
  }
}

async function parse(der: Uint8Array): Promise<ParsedCrl> {
  const list = expectTlv(der, 0, der.length, TAG.sequence, "CertificateList");
  if (list.end !== der.length) throw new CrlError(`${der.length - list.end} bytes after the CertificateList`);
  const tbs = expectTlv(der, list.content, list.end, TAG.sequence, "tbsCertList");
  const outerAlg = expectTlv(der, tbs.end, list.end, TAG.sequence, "signatureAlgorithm");
  const sig = expectTlv(der, outerAlg.end, list.end, TAG.bitString, "signatureValue");
  if (sig.end !== list.end) throw new CrlError("unexpected element after signatureValue");
  if (der[sig.content] !== 0) throw new CrlError("signatureValue has unused bits");

  let at = tbs.content;
  let field = readTlv(der, at, tbs.end);
  if (field.tag === TAG.integer) {
    // RFC 5280 §5.1.2.1: v2 (1) when present.
    if (field.end - field.content !== 1 || der[field.content] !== 1) throw new CrlError("unsupported CRL version");
    field = readTlv(der, field.end, tbs.end);
  }
  if (field.tag !== TAG.sequence) throw new CrlError("tbsCertList.signature missing");
  // RFC 5280 §5.1.1.2: the two algorithm identifiers must be identical.
  if (Buffer.compare(slice(der, field), slice(der, outerAlg)) !== 0) throw new CrlError("tbsCertList.signature differs from signatureAlgorithm");
  const issuer = expectTlv(der, field.end, tbs.end, TAG.sequence, "issuer");
  const thisUpdate = readTime(der, readTlv(der, issuer.end, tbs.end), "thisUpdate");
  at = thisUpdate.tlv.end;
  let next = at < tbs.end ? readTlv(der, at, tbs.end) : null;
  if (next === null || (next.tag !== TAG.utcTime && next.tag !== TAG.generalizedTime)) throw new CrlError("no nextUpdate: the CRL's freshness is unbounded");
  const nextUpdate = readTime(der, next, "nextUpdate");
  if (nextUpdate.ms <= thisUpdate.ms) throw new CrlError("nextUpdate is not after thisUpdate");
  at = next.end;
  next = at < tbs.end ? readTlv(der, at, tbs.end) : null;

  let revoked: SerialIndex = NO_SERIALS;
  if (next?.tag === TAG.sequence) {
    revoked = await indexRevoked(der, next);
    next = next.end < tbs.end ? readTlv(der, next.end, tbs.end) : null;
  }
  if (next?.tag === 0xa0) {
    checkCrlExtensions(slice(der, expectTlv(der, next.content, next.end, TAG.sequence, "crlExtensions")));
    next = next.end < tbs.end ? readTlv(der, next.end, tbs.end) : null;
  }
  if (next !== null) throw new CrlError(`unexpected element 0x${next.tag.toString(16)} in tbsCertList`);

  return {
    der,
    tbs: slice(der, tbs),
    signatureAlgorithm: AsnConvert.parse(slice(der, outerAlg), AlgorithmIdentifier),
    signature: der.subarray(sig.content + 1, sig.end),
    issuerDer: slice(der, issuer),
    thisUpdate: thisUpdate.ms,
    nextUpdate: nextUpdate.ms,
    revoked,
  };
}

/**
 * Indexes `revokedCertificates` without decoding entries: only the serial is located, and each entry's
 * extensions are scanned for what changes its meaning (RFC 5280 §5.3). Entries with `removeFromCRL` (delta
 * CRLs only) are skipped; an indirect CRL (`certificateIssuer`) or an unknown critical entry extension refuses
 * the CRL, as §5.3 requires. Two passes (check and collect, then index), each in slices.
 */
async function indexRevoked(der: Uint8Array, list: Tlv): Promise<SerialIndex> {
  let offsets: Int32Array<ArrayBuffer> = new Int32Array(1024);
  let count = 0;
  for (let at = list.content, n = 1; at < list.end; n++) {
    if (n % SLICE === 0) await yieldToEventLoop();
    const entry = expectTlv(der, at, list.end, TAG.sequence, "revokedCertificates entry");
    const serial = expectTlv(der, entry.content, entry.end, TAG.integer, "userCertificate");
    if (serial.end === serial.content) throw new CrlError(`empty serial number in the entry at byte ${entry.start}`);
    const date = readTlv(der, serial.end, entry.end);
    if (date.tag !== TAG.utcTime && date.tag !== TAG.generalizedTime) throw new CrlError(`revocationDate of the entry at byte ${entry.start} is not a Time`);
    const removed = date.end < entry.end && scanEntryExtensions(der, expectTlv(der, date.end, entry.end, TAG.sequence, "crlEntryExtensions"));
    if (!removed) {
      if (count === offsets.length) offsets = grow(offsets);
      offsets[count++] = entry.start;
    }
    at = entry.end;
  }
  const index = createSerialIndex(der, count, (offset) => entrySerial(der, offset));
  for (let i = 0; i < count; i++) {
    if (i % SLICE === SLICE - 1) await yieldToEventLoop();
    index.add(offsets[i]!);
  }
  return index;
}

/** The normalised serial of the (already checked) entry at `offset`. */
function entrySerial(der: Uint8Array, offset: number): { start: number; end: number } {
  const entry = readTlv(der, offset, der.length);
  const serial = readTlv(der, entry.content, entry.end);
  return normalisedSerial(der, serial.content, serial.end);
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(a.length * 2);
  bigger.set(a);
  return bigger;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** True when the entry says `removeFromCRL`; throws for entry extensions this stage cannot honour. */
function scanEntryExtensions(der: Uint8Array, extensions: Tlv): boolean {
  let removed = false;
  for (let at = extensions.content; at < extensions.end; ) {
    const ext = expectTlv(der, at, extensions.end, TAG.sequence, "Extension");
    const oid = expectTlv(der, ext.content, ext.end, TAG.oid, "extnID");
    let value = readTlv(der, oid.end, ext.end);
    const critical = value.tag === TAG.boolean && der[value.content] !== 0;
    if (value.tag === TAG.boolean) value = readTlv(der, value.end, ext.end);
    if (isOid(der, oid, CERTIFICATE_ISSUER)) throw new CrlError("indirect CRL (certificateIssuer entry extension) is not supported");
    if (isOid(der, oid, REASON_CODE)) {
      // extnValue: OCTET STRING { ENUMERATED }
      const code = readTlv(der, value.content, value.end);
      removed = code.end - code.content === 1 && der[code.content] === REMOVE_FROM_CRL;
    } else if (critical && !isOid(der, oid, INVALIDITY_DATE)) {
      throw new CrlError(`unsupported critical CRL entry extension in the entry at byte ${extensions.start}`);
    }
    at = ext.end;
  }
  return removed;
}

/**
 * RFC 5280 §5.2: a delta CRL, a CRL whose scope is restricted by its issuing distribution point, or any other
 * critical extension this stage does not process makes the CRL unusable for deciding a certificate's status.
 */
function checkCrlExtensions(der: Uint8Array): void {
  for (const ext of AsnConvert.parse(der, Extensions)) {
    if (ext.extnID === id_ce_deltaCRLIndicator) throw new CrlError("delta CRL: a complete CRL is required");
    if (ext.extnID === id_ce_issuingDistributionPoint) {
      const idp = AsnConvert.parse(ext.extnValue.buffer, IssuingDistributionPoint);
      if (idp.onlyContainsUserCerts || idp.onlyContainsCACerts || idp.onlyContainsAttributeCerts || idp.indirectCRL || idp.onlySomeReasons) {
        throw new CrlError("the CRL's issuingDistributionPoint restricts its scope (partitioned or indirect CRL); not supported");
      }
      continue;
    }
    if (ext.critical) throw new CrlError(`unsupported critical CRL extension ${ext.extnID}`);
  }
}

/** Decodes the entry a check found (date and reason), from its offset in the CRL. */
export function revokedEntry(crl: ParsedCrl, offset: number): RevokedEntry {
  const tlv = readTlv(crl.der, offset, crl.der.length);
  const entry = AsnConvert.parse(crl.der.subarray(offset, tlv.end), RevokedCertificate);
  const reasonExt = entry.crlEntryExtensions?.find((e) => e.extnID === id_ce_cRLReasons);
  const reason = reasonExt ? AsnConvert.parse(reasonExt.extnValue.buffer, CRLReason).reason : CRLReasons.unspecified;
  return { revokedAt: entry.revocationDate.getTime(), reason: CRLReasons[reason] ?? `reason ${reason}` };
}

function readTime(der: Uint8Array, tlv: Tlv, what: string): { tlv: Tlv; ms: number } {
  if (tlv.tag !== TAG.utcTime && tlv.tag !== TAG.generalizedTime) throw new CrlError(`${what} is not a Time`);
  const ms = AsnConvert.parse(slice(der, tlv), Time).getTime().getTime();
  if (!Number.isFinite(ms)) throw new DerError(`${what} is not a valid time`);
  return { tlv, ms };
}

function slice(der: Uint8Array, tlv: Tlv): Uint8Array {
  return der.subarray(tlv.start, tlv.end);
}
