import type { EdgeErrorCode } from "../errors.js";

/**
 * OpenSSL X509 verify results (as Node reports them in `authorizationError`) mapped to reason codes and
 * operator wording. Anything not listed fails closed as `CERT_CHAIN_INVALID`, naming OpenSSL's code.
 */
const TABLE: Readonly<Record<string, { code: EdgeErrorCode; text: string }>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: { code: "CERT_SELF_SIGNED", text: "the client certificate is self-signed" },
  SELF_SIGNED_CERT_IN_CHAIN: { code: "CERT_UNTRUSTED", text: "the chain ends in a root that is not a configured trust anchor" },
  UNABLE_TO_GET_ISSUER_CERT: { code: "CERT_UNTRUSTED", text: "the issuer of a certificate in the chain is unknown" },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: { code: "CERT_UNTRUSTED", text: "the chain does not lead to a configured trust anchor (unknown CA)" },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { code: "CERT_UNTRUSTED", text: "the issuer of the client certificate is unknown" },
  CERT_UNTRUSTED: { code: "CERT_UNTRUSTED", text: "the chain is not trusted" },
  CERT_REJECTED: { code: "CERT_UNTRUSTED", text: "the root is marked to reject" },
  CERT_HAS_EXPIRED: { code: "CERT_EXPIRED", text: "a certificate in the chain has expired" },
  CERT_NOT_YET_VALID: { code: "CERT_NOT_YET_VALID", text: "a certificate in the chain is not yet valid (check the clocks)" },
  INVALID_PURPOSE: { code: "CERT_INVALID_PURPOSE", text: "the chain is not valid for TLS client authentication (extended key usage)" },
  INVALID_CA: { code: "CERT_CHAIN_INVALID", text: "a certificate that issued another is not a CA (basicConstraints)" },
  PATH_LENGTH_EXCEEDED: { code: "CERT_CHAIN_INVALID", text: "the chain is longer than a CA's pathLenConstraint allows" },
  UNHANDLED_CRITICAL_EXTENSION: { code: "CERT_CHAIN_INVALID", text: "a certificate carries an unknown critical extension" },
  CERT_SIGNATURE_FAILURE: { code: "CERT_CHAIN_INVALID", text: "a certificate's signature does not verify" },
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: { code: "CERT_CHAIN_INVALID", text: "an issuer public key cannot be decoded" },
  CA_MD_TOO_WEAK: { code: "CERT_SIGNATURE_WEAK", text: "a certificate is signed with a weak digest (SHA-1 or older)" },
  EE_KEY_TOO_SMALL: { code: "CERT_KEY_TOO_WEAK", text: "the client key is too small" },
  CA_KEY_TOO_SMALL: { code: "CERT_KEY_TOO_WEAK", text: "a CA key is too small" },
  ERROR_IN_CERT_NOT_BEFORE_FIELD: { code: "CERT_MALFORMED", text: "a notBefore field is malformed" },
  ERROR_IN_CERT_NOT_AFTER_FIELD: { code: "CERT_MALFORMED", text: "a notAfter field is malformed" },
};

/** Maps Node's `authorizationError` (an OpenSSL verify code name) to a reason code and a sentence. */
export function mapVerifyError(opensslCode: string, presentedCount: number): { code: EdgeErrorCode; text: string } {
  // OpenSSL reports a lone leaf whose issuer is missing as UNABLE_TO_VERIFY_LEAF_SIGNATURE: with an
  // anchors-only store that is the client not sending its intermediate (OFB certificate standard; RFC 5246 §7.4.6).
  if (presentedCount === 1 && (opensslCode === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" || opensslCode === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY")) {
    return { code: "CERT_CHAIN_INCOMPLETE", text: "the client sent no intermediate certificate and its issuer is not a trust anchor" };
  }
  return TABLE[opensslCode] ?? { code: "CERT_CHAIN_INVALID", text: `path validation failed (${opensslCode.slice(0, 64)})` };
}
