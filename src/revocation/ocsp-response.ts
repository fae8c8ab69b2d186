import { OCSPResponse, OCSPResponseStatus, ResponseData, id_pkix_ocsp_basic, id_pkix_ocsp_nonce, type SingleResponse } from "@peculiar/asn1-ocsp";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, CRLReasons, type Extension } from "@peculiar/asn1-x509";
import { MAX_CLOCK_SKEW_MS, iso } from "./authority.js";
import { TAG, children, expectTlv, readTlv } from "./der.js";
import { OcspError } from "./ocsp-error.js";
import { SHA1, type OcspCertId } from "./ocsp-request.js";
import { responseSigner, type IssuerKey, type OcspSigner, type ResponderId } from "./ocsp-signer.js";
import { normalisedSerial } from "./serial-index.js";
import { verifySignature } from "./signature.js";

export type OcspStatus = "good" | "revoked" | "unknown";

/** A verified answer about one certificate. */
export interface OcspAnswer {
  readonly status: OcspStatus;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  /** Until when a good or unknown answer decides: nextUpdate, or thisUpdate + maxAgeMs without one. */
  readonly expiresAt: number;
  readonly producedAt: number;
  /** revoked only: revocationTime and the RFC 5280 §5.3.1 reason name (`unspecified` when absent). */
  readonly revokedAt: number | null;
  readonly reason: string | null;
  /** Who signed it: the AC's CN or the delegated responder's. */
  readonly signer: string;
  readonly unchecked: OcspSigner["unchecked"];
}

/** What the response must match: the question asked, the AC asked about, and the clock. */
export interface ExpectedResponse {
  readonly certId: OcspCertId;
  readonly issuer: IssuerKey;
  /** The nonce extension's extnValue sent, or null when none was. */
  readonly nonce: Uint8Array | null;
  readonly now: number;
  readonly maxAgeMs: number;
}

const STATUS_NAMES: Readonly<Record<number, string>> = { 1: "malformedRequest", 2: "internalError", 3: "tryLater", 5: "sigRequired", 6: "unauthorized" };

/**
 * Parses and checks an OCSP response (RFC 6960 §3.2) for the certificate asked about: a successful
 * BasicOCSPResponse, signed by the AC or its delegated responder, whose SingleResponse for the CertID asked
 * about is current at `now` and which echoes the nonce sent (when it returns one). Throws {@link OcspError}.
 */
export async function verifyOcspResponse(body: Uint8Array, x: ExpectedResponse): Promise<OcspAnswer> {
  try {
    return await verify(body, x);
  } catch (err) {
    if (err instanceof OcspError) throw err;
    throw new OcspError(`malformed OCSP response: ${(err as Error).message.slice(0, 200)}`, { cause: err });
  }
}

async function verify(body: Uint8Array, x: ExpectedResponse): Promise<OcspAnswer> {
  const outer = expectTlv(body, 0, body.length, TAG.sequence, "OCSPResponse");
  if (outer.end !== body.length) throw new OcspError(`${body.length - outer.end} bytes after the OCSPResponse`);
  const response = AsnConvert.parse(body, OCSPResponse);
  // RFC 6960 §2.3: any other status carries no responseBytes and says nothing about the certificate.
  if (response.responseStatus !== OCSPResponseStatus.successful) {
    throw new OcspError(`responseStatus ${STATUS_NAMES[response.responseStatus] ?? response.responseStatus}`);
  }
  if (!response.responseBytes) throw new OcspError("successful response without responseBytes (RFC 6960 §4.2.1)");
  if (response.responseBytes.responseType !== id_pkix_ocsp_basic) throw new OcspError(`responseType ${response.responseBytes.responseType} is not id-pkix-ocsp-basic (RFC 6960 §4.2.1)`);

  const basic = basicParts(new Uint8Array(response.responseBytes.response.buffer));
  const data = AsnConvert.parse(basic.tbs, ResponseData);
  // RFC 6960 §3.2 (2), (3) and §4.2.2.2: signed by the AC, or by a responder it authorised.
  const signer = await responseSigner(basic.responderId, basic.certs, x.issuer, x.now);
  const signed = await verifySignature({ algorithm: basic.algorithm, signed: basic.tbs, signature: basic.signature }, signer.key, "OCSP response", (m) => new OcspError(m));
  if (!signed) throw new OcspError(`the response's signature does not verify with the key of '${signer.label}' (RFC 6960 §3.2)`);

  // RFC 6960 §3.2 (1): the answer is about the certificate asked about.
  const single = data.responses.find((r) => matches(r, x.certId));
  if (!single) throw new OcspError(`no SingleResponse for the CertID asked about (${data.responses.length} in the response) (RFC 6960 §3.2)`);
  checkExtensions(data.responseExtensions, "responseExtensions", x.nonce);
  checkExtensions(single.singleExtensions, "singleExtensions", null);

  // RFC 6960 §3.2 (4), (5) and §4.2.2.1: thisUpdate recent enough (not ahead of the clock), nextUpdate not passed.
  const thisUpdate = time(single.thisUpdate, "thisUpdate");
  const nextUpdate = single.nextUpdate ? time(single.nextUpdate, "nextUpdate") : null;
  if (thisUpdate > x.now + MAX_CLOCK_SKEW_MS) throw new OcspError(`thisUpdate ${iso(thisUpdate)} is in the future (RFC 6960 §3.2)`);
  if (nextUpdate !== null && nextUpdate <= thisUpdate) throw new OcspError("nextUpdate is not after thisUpdate");
  if (nextUpdate !== null && nextUpdate < x.now) throw new OcspError(`nextUpdate ${iso(nextUpdate)} has passed (RFC 6960 §3.2)`);
  const expiresAt = nextUpdate ?? thisUpdate + x.maxAgeMs;
  if (expiresAt < x.now) throw new OcspError(`no nextUpdate, and thisUpdate ${iso(thisUpdate)} is older than revocation.ocsp.maxAgeMs (RFC 6960 §4.2.2.1)`);

  const answer = { thisUpdate, nextUpdate, expiresAt, producedAt: time(data.producedAt, "producedAt"), signer: signer.label, unchecked: signer.unchecked };
  const status = single.certStatus;
  if (status.revoked) {
    const reason = status.revoked.revocationReason?.reason ?? CRLReasons.unspecified;
    return { ...answer, status: "revoked", revokedAt: time(status.revoked.revocationTime, "revocationTime"), reason: CRLReasons[reason] ?? `reason ${reason}` };
  }
  if (status.good !== undefined) return { ...answer, status: "good", revokedAt: null, reason: null };
  if (status.unknown !== undefined) return { ...answer, status: "unknown", revokedAt: null, reason: null };
  throw new OcspError("certStatus is none of good, revoked, unknown");
}

/**
 * BasicOCSPResponse (RFC 6960 §4.2.1) located in its DER: the signed tbsResponseData bytes as received, the
 * ResponderID, and each included certificate's own bytes (a re-encoding could differ from what was signed).
 */
function basicParts(der: Uint8Array): { tbs: Uint8Array; responderId: ResponderId; algorithm: AlgorithmIdentifier; signature: Uint8Array; certs: Uint8Array[] } {
  const basic = expectTlv(der, 0, der.length, TAG.sequence, "BasicOCSPResponse");
  const tbs = expectTlv(der, basic.content, basic.end, TAG.sequence, "tbsResponseData");
  const algorithm = expectTlv(der, tbs.end, basic.end, TAG.sequence, "signatureAlgorithm");
  const signature = expectTlv(der, algorithm.end, basic.end, TAG.bitString, "signature");
  if (der[signature.content] !== 0) throw new OcspError("the response's signature has unused bits");
  const certs: Uint8Array[] = [];
  if (signature.end < basic.end) {
    const explicit = expectTlv(der, signature.end, basic.end, 0xa0, "certs");
    for (const cert of children(der, expectTlv(der, explicit.content, explicit.end, TAG.sequence, "certs"))) certs.push(der.subarray(cert.start, cert.end));
  }
  let field = readTlv(der, tbs.content, tbs.end);
  if (field.tag === 0xa0) field = readTlv(der, field.end, tbs.end);
  const inner = readTlv(der, field.content, field.end);
  let responderId: ResponderId;
  if (field.tag === 0xa1 && inner.tag === TAG.sequence) responderId = { byName: der.subarray(inner.start, inner.end) };
  else if (field.tag === 0xa2 && inner.tag === TAG.octetString) responderId = { byKey: der.subarray(inner.content, inner.end) };
  else throw new OcspError("responderID is neither byName nor byKey");
  return {
    tbs: der.subarray(tbs.start, tbs.end),
    responderId,
    algorithm: AsnConvert.parse(der.subarray(algorithm.start, algorithm.end), AlgorithmIdentifier),
    signature: der.subarray(signature.content + 1, signature.end),
    certs,
  };
}

/** RFC 6960 §4.1.1: same hash algorithm (SHA-1, as asked), issuer name and key hashes, and serial number. */
function matches(r: SingleResponse, id: OcspCertId): boolean {
  const c = r.certID;
  return (
    c.hashAlgorithm.algorithm === SHA1 &&
    equal(new Uint8Array(c.issuerNameHash.buffer), id.issuerNameHash) &&
    equal(new Uint8Array(c.issuerKeyHash.buffer), id.issuerKeyHash) &&
    sameSerial(new Uint8Array(c.serialNumber), id.serialNumber)
  );
}

/**
 * RFC 6960 §4.4.1 and RFC 8954 §2.1: a nonce returned must be the one sent (a responder that returns none
 * serves a pre-produced response, RFC 5019 §2.2.1, whose dates bound it). Any other critical extension is one
 * this client cannot honour (§4.4): the response is refused.
 */
function checkExtensions(extensions: readonly Extension[] | undefined, where: string, nonce: Uint8Array | null): void {
  for (const ext of extensions ?? []) {
    if (ext.extnID === id_pkix_ocsp_nonce && where === "responseExtensions") {
      if (nonce && !equal(new Uint8Array(ext.extnValue.buffer), nonce)) throw new OcspError("the response's nonce is not the one sent (RFC 6960 §4.4.1)");
      continue;
    }
    if (ext.critical) throw new OcspError(`unsupported critical extension ${ext.extnID} in ${where} (RFC 6960 §4.4)`);
  }
}

function sameSerial(a: Uint8Array, b: Uint8Array): boolean {
  const x = normalisedSerial(a, 0, a.length);
  const y = normalisedSerial(b, 0, b.length);
  return equal(a.subarray(x.start, x.end), b.subarray(y.start, y.end));
}

function time(d: Date, what: string): number {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new OcspError(`${what} is not a valid time`);
  return ms;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
