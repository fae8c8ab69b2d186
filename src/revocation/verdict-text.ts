import type { CertInfo } from "../pki/certificate.js";
import { iso } from "./authority.js";
import { revokedEntry, type ParsedCrl } from "./crl.js";
import type { OcspAnswer } from "./ocsp-response.js";

/** Decoded revoked entries remembered per CRL (a revoked client retrying costs no ASN.1 decoding). */
const MAX_DECODED = 1_000;

/** The "was revoked at …" part of a CERT_REVOKED detail, built once per listed certificate or OCSP answer. */
export function createVerdictTexts() {
  const decoded = new WeakMap<ParsedCrl, Map<number, string>>();
  const ocspTexts = new WeakMap<OcspAnswer, string>();
  return {
    /** "was revoked at …, reason … (CRL of …)" for the entry at `offset` of `crl`. */
    crl(crl: ParsedCrl, offset: number, issuer: CertInfo): string {
      let memo = decoded.get(crl);
      if (!memo || memo.size >= MAX_DECODED) decoded.set(crl, (memo = new Map()));
      let text = memo.get(offset);
      if (text === undefined) {
        const entry = revokedEntry(crl, offset);
        memo.set(offset, (text = `was revoked at ${entry.revokedAt.toISOString()}, reason ${entry.reason} (CRL of '${issuer.label}', thisUpdate ${iso(crl.thisUpdate)})`));
      }
      return text;
    },
    /** "was revoked at …, reason … (OCSP response signed by …, thisUpdate …)". */
    ocsp(answer: OcspAnswer): string {
      let text = ocspTexts.get(answer);
      if (text === undefined) {
        text = `was revoked at ${iso(answer.revokedAt ?? answer.thisUpdate)}, reason ${answer.reason ?? "unspecified"} (OCSP response signed by '${answer.signer}', thisUpdate ${iso(answer.thisUpdate)})`;
        ocspTexts.set(answer, text);
      }
      return text;
    },
  };
}
