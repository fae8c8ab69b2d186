import type { Logger } from "../log/logger.js";
import { coverage, type Authority } from "./authority.js";
import type { RevocationConfig } from "./config.js";
import type { RevocationVerdict } from "./service.js";

const OK: RevocationVerdict = Object.freeze({ ok: true });

/**
 * What a certificate's check says when its issuer's CRL is not held: pending while the first fetch is open (a
 * caller that can wait, waits); else, for an AC with no CRL source at all (uncovered) or whose CRL could not be
 * obtained, `onStale` decides — hard-fail refuses, soft-fail lets the certificate through unchecked, logged once
 * per AC and counted per request (`handshake` checks are not counted: their requests are checked again).
 */
export function createMissingCrlRule(config: Pick<RevocationConfig, "onStale">, logger: Logger) {
  const hard = config.onStale === "hard-fail";
  const unavailable = (certIndex: number, detail: string): RevocationVerdict => ({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex, detail });
  return function withoutCrl(a: Authority, i: number, handshake: boolean): RevocationVerdict {
    const label = a.cert.label;
    if (a.first?.open) return { ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex: i, detail: `the CRL of '${label}' is being obtained for the first time`, pending: true };
    if (coverage(a) === "uncovered") {
      if (!a.warnedUncovered) {
        a.warnedUncovered = true;
        logger[hard ? "error" : "warn"](
          { kind: "revocation", event: "revocation-uncovered", ac: label, sha256: a.sha256, onStale: config.onStale },
          hard ? "no CRL source for this AC: its certificates are refused (hard-fail)" : "no CRL source for this AC: its certificates are accepted unchecked (soft-fail)",
        );
      }
      if (hard) return unavailable(i, `no CRL source for '${label}': the certificate names no CRL distribution point, and neither revocation.urls nor revocation.crlFiles provides one`);
    } else {
      if (hard) return unavailable(i, `no CRL of '${label}' has been obtained${a.lastError ? ` (${a.lastError.slice(0, 200)})` : ""}`);
      if (!a.warnedMissing) {
        a.warnedMissing = true;
        logger.warn({ kind: "revocation", event: "crl-missing", ac: label, sha256: a.sha256, reason: a.lastError }, "no CRL for this AC could be obtained; its certificates are accepted unchecked (onStale soft-fail)");
      }
    }
    if (!handshake) a.unchecked += 1;
    return OK;
  };
}
