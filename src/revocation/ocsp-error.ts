/** Why an OCSP exchange gave no answer to use; the message names the rule (RFC 6960 section) that failed. */
export class OcspError extends Error {
  override readonly name = "OcspError";
}
