import type { X509Certificate } from "node:crypto";
import { isIssuedBy, isSelfIssued, type CertInfo } from "../pki/certificate.js";
import type { Decoded, DecodeProblem } from "./candidates.js";
import type { PinSet, RootPin } from "../pki/icp-brasil-roots.js";

/** A decoded certificate Node can verify with. */
export type Usable = Decoded & { readonly info: CertInfo; readonly x509: X509Certificate; readonly problem: null };

/** A certificate that chains to a pinned root. */
export interface Trusted {
  readonly cert: Usable;
  /** Name of the pinned root at the top of its path. */
  readonly root: string;
  /** `null` for the root itself. */
  readonly issuer: Trusted | null;
  /** 0 for a root, 1 for an AC the root issued, … */
  readonly depth: number;
}

export type SelectSkipCode = DecodeProblem | "DUPLICATE" | "EXPIRED" | "UNPINNED_ROOT" | "NOT_A_CA" | "BAD_SIGNATURE" | "NO_PINNED_PATH";

export interface Rejected {
  readonly cert: Decoded;
  readonly code: SelectSkipCode;
  readonly reason: string;
}

export interface Selection {
  readonly trusted: readonly Trusted[];
  readonly rejected: readonly Rejected[];
  /** Certificates whose fingerprint is a retired pin; reported, never trusted. */
  readonly retired: readonly { readonly cert: Decoded; readonly pin: RootPin }[];
  /** Pinned roots the source did not supply (or supplied unusable). */
  readonly missing: readonly RootPin[];
}

// RFC 5280 §4.2.1.3 keyCertSign is bit 5: 32 in @peculiar/asn1-x509's KeyUsageFlags.
const KEY_CERT_SIGN = 32;

/**
 * Keeps the pinned roots and the ACs that chain to them (docs/architecture.md §Trust), as ordered passes:
 * duplicates, retired fingerprints, undecodable certificates, expired ones (at `now`), roots (pinned or
 * reported), then ACs whose issuer (exact DER name, key identifiers) is already trusted and whose signature
 * verifies under it, repeated until nothing changes. Everything left is rejected with the reason it fails.
 * A certificate not yet valid is kept: the ITI publishes ACs before their notBefore (AC Certisign ICP-Brasil SSL G5
 * in the bundle of 2026-06-25), and path validation checks validity against the clock on every request.
 * pathLenConstraint and name constraints are left to path validation.
 */
export function selectTrusted(candidates: readonly Decoded[], pins: PinSet, now: Date): Selection {
  const pinned = new Map(pins.pinned.map((p) => [p.sha256, p]));
  const retiredPins = new Map(pins.retired.map((p) => [p.sha256, p]));
  const trusted: Trusted[] = [];
  const rejected: Rejected[] = [];
  const retired: { cert: Decoded; pin: RootPin }[] = [];
  const reject = (cert: Decoded, code: SelectSkipCode, reason: string) => void rejected.push({ cert, code, reason });

  const firstSeen = new Map<string, Decoded>();
  const pending: Usable[] = [];
  for (const cert of candidates) {
    const earlier = firstSeen.get(cert.sha256);
    if (earlier) {
      reject(cert, "DUPLICATE", `same certificate as ${earlier.entry}`);
      continue;
    }
    firstSeen.set(cert.sha256, cert);
    const retiredPin = retiredPins.get(cert.sha256);
    if (retiredPin) retired.push({ cert, pin: retiredPin });
    else if (!isUsable(cert)) reject(cert, cert.problem!.code, pinnedNote(pinned.get(cert.sha256), cert.problem!.reason));
    else if (cert.info.notAfter.getTime() < now.getTime()) reject(cert, "EXPIRED", pinnedNote(pinned.get(cert.sha256), `expired on ${cert.info.notAfter.toISOString()}`));
    else pending.push(cert);
  }

  for (const cert of pending.filter((c) => pinned.has(c.sha256) || isSelfIssued(c.info))) {
    pending.splice(pending.indexOf(cert), 1);
    const pin = pinned.get(cert.sha256);
    if (!pin) reject(cert, "UNPINNED_ROOT", "self-signed root whose SHA-256 is not in the pinned list");
    else if (!verifies(cert, cert)) reject(cert, "BAD_SIGNATURE", pinnedNote(pin, "its self-signature does not verify"));
    else trusted.push({ cert, root: pin.name, issuer: null, depth: 0 });
  }

  for (let progress = true; progress; ) {
    progress = false;
    for (const cert of [...pending]) {
      if (signingProblem(cert.info) !== null) continue;
      const issuer = trusted.find((t) => isIssuedBy(cert.info, t.cert.info) && verifies(cert, t.cert));
      if (!issuer) continue;
      trusted.push({ cert, root: issuer.root, issuer, depth: issuer.depth + 1 });
      pending.splice(pending.indexOf(cert), 1);
      progress = true;
    }
  }

  const status = new Map<string, string>([
    ...retired.map(({ cert, pin }) => [cert.sha256, `retired root ${pin.name}`] as const),
    // A duplicate shares its fingerprint with the first copy, whose own outcome is the one to quote.
    ...rejected.filter((r) => r.code !== "DUPLICATE").map(({ cert, code }) => [cert.sha256, `skipped (${code})`] as const),
  ]);
  for (const cert of pending) {
    const problem = signingProblem(cert.info);
    if (problem !== null) {
      reject(cert, "NOT_A_CA", problem);
      continue;
    }
    const issuers = [...firstSeen.values()].filter((d) => d !== cert && d.info !== null && isIssuedBy(cert.info, d.info));
    const trustedIssuer = trusted.find((t) => issuers.includes(t.cert));
    if (trustedIssuer) reject(cert, "BAD_SIGNATURE", `signature does not verify under ${trustedIssuer.cert.info.label}`);
    else if (issuers[0]) reject(cert, "NO_PINNED_PATH", `issuer ${issuers[0].info!.label} is ${status.get(issuers[0].sha256) ?? "not chained to a pinned root"}`);
    else reject(cert, "NO_PINNED_PATH", "its issuer is not in the source");
  }

  const found = new Set(trusted.filter((t) => t.depth === 0).map((t) => t.cert.sha256));
  return { trusted, rejected, retired, missing: pins.pinned.filter((p) => !found.has(p.sha256)) };
}

function isUsable(cert: Decoded): cert is Usable {
  return cert.problem === null && cert.info !== null && cert.x509 !== null;
}

function pinnedNote(pin: RootPin | undefined, reason: string): string {
  return pin ? `pinned root ${pin.name}: ${reason}` : reason;
}

/** RFC 5280 §4.2.1.9 / §4.2.1.3: an issuer must be a CA with keyCertSign (when keyUsage is present). */
function signingProblem(info: CertInfo): string | null {
  if (!info.isCa) return "not a CA certificate (basicConstraints cA is not set)";
  if (info.keyUsage !== null && (info.keyUsage & KEY_CERT_SIGN) === 0) return "keyUsage lacks keyCertSign";
  return null;
}

function verifies(cert: Usable, issuer: Usable): boolean {
  try {
    return cert.x509.verify(issuer.x509.publicKey);
  } catch {
    // An issuer key Node can load but not verify with is a failed signature check, reported as such.
    return false;
  }
}
