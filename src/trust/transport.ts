import { OID } from "../pki/certificate.js";
import type { Trusted } from "./select.js";

export type ExcludeCode = "OTHER_ROOT" | "EKU_WITHOUT_CLIENT_AUTH" | "NOT_LEVEL_1";

/** A certificate that chains to a pinned root but is not part of the transport store. */
export interface Excluded {
  readonly trusted: Trusted;
  readonly code: ExcludeCode;
  readonly reason: string;
}

/** The rule, as written into the report. */
export const TRANSPORT_RULE =
  "the transport roots and the ACs they issue directly whose extendedKeyUsage is absent or includes clientAuth (1.3.6.1.5.5.7.3.2)";

/**
 * The mTLS transport store (OFB certificate standard 2.1: the client certificate "deve ser emitido através de cadeia
 * V10"; docs/architecture.md §Trust):
 * - the transport roots (ICP-Brasil: v10 only; "chains to any ICP-Brasil root" lets v5 e-CNPJ certificates in);
 * - ACs issued directly by a transport root: BRCAC chains are leaf → AC → root;
 * - of those, only ACs whose EKU allows clientAuth or that carry no EKU. OpenSSL applies a CA's EKU to the
 *   whole path, so a clientAuth leaf below a serverAuth-only AC (Certisign SSL G2, SOLUTI SSL EV G2) fails
 *   with INVALID_PURPOSE anyway; keeping such an AC out makes the store say what it accepts.
 *   anyExtendedKeyUsage alone does not satisfy OpenSSL's sslclient purpose, so it does not count.
 */
export function selectTransport(trusted: readonly Trusted[], transportRoots: readonly string[]): { bundle: Trusted[]; excluded: Excluded[] } {
  const bundle: Trusted[] = [];
  const excluded: Excluded[] = [];
  for (const t of trusted) {
    const eku = t.cert.info.extendedKeyUsage;
    if (!transportRoots.includes(t.root)) {
      excluded.push({ trusted: t, code: "OTHER_ROOT", reason: `chains to root ${t.root}, not a transport root (${transportRoots.join(", ")})` });
    } else if (t.depth > 1) {
      excluded.push({ trusted: t, code: "NOT_LEVEL_1", reason: `issued by ${t.issuer?.cert.info.label ?? "?"}, not directly by root ${t.root}` });
    } else if (t.depth === 1 && eku !== null && !eku.includes(OID.clientAuth)) {
      excluded.push({ trusted: t, code: "EKU_WITHOUT_CLIENT_AUTH", reason: `extendedKeyUsage [${eku.join(", ")}] lacks clientAuth: client paths through it fail with INVALID_PURPOSE` });
    } else {
      bundle.push(t);
    }
  }
  return { bundle, excluded };
}
