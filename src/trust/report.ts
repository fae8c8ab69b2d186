import { readFile } from "node:fs/promises";
import { loadTrustAnchors } from "../pki/anchors.js";
import type { CertInfo } from "../pki/certificate.js";
import { formatDn } from "../identity/dn.js";
import type { Decoded, EntrySkip } from "./candidates.js";
import type { PinSet } from "../pki/icp-brasil-roots.js";
import type { Selection, Trusted } from "./select.js";
import { TRANSPORT_RULE, type Excluded } from "./transport.js";

/** Where the candidates came from. */
export type ReportSource =
  | { readonly kind: "iti-zip"; readonly url: string; readonly sha512Url: string; readonly sha512: string }
  | { readonly kind: "roots-jwks"; readonly url: string }
  | { readonly kind: "sandbox-file"; readonly path: string }
  /** `--from` a zip: its SHA-512, and the hash file (or `--sha512`) it was checked against; `null`: not checked. */
  | { readonly kind: "local-zip"; readonly path: string; readonly sha512: string; readonly checkedAgainst: string | null }
  /** `--from` a PEM or DER certificate file. */
  | { readonly kind: "local-file"; readonly path: string }
  /** `--from` a folder: how many certificate files were read from it. */
  | { readonly kind: "local-folder"; readonly path: string; readonly files: number };

/** What the report says about one certificate; `null` where the certificate could not be read that far. */
export interface CertSummary {
  readonly entry: string;
  readonly sha256: string | null;
  readonly subject: string | null;
  readonly issuer: string | null;
  readonly notBefore: string | null;
  readonly notAfter: string | null;
}

/** The JSON written next to the bundle. */
export interface TrustReport {
  readonly generatedAt: string;
  readonly source: ReportSource;
  readonly bundle: string;
  readonly rule: string;
  readonly pinnedRoots: readonly { readonly name: string; readonly sha256: string; readonly found: boolean }[];
  readonly kept: readonly (CertSummary & { readonly role: string })[];
  readonly excluded: readonly (CertSummary & { readonly root: string; readonly code: string; readonly reason: string })[];
  readonly skipped: readonly (CertSummary & { readonly code: string; readonly reason: string })[];
  readonly retired: readonly (CertSummary & { readonly root: string })[];
  readonly changes: BundleChanges;
}

/** The bundle compared with the file it replaces, by SHA-256. */
export interface BundleChanges {
  /** The previous bundle's path, or `null` when there was none. */
  readonly previous: string | null;
  /** Set when a previous file existed but could not be read as a PEM bundle (then every certificate counts as added). */
  readonly note?: string;
  readonly added: readonly { readonly sha256: string; readonly subject: string | null }[];
  readonly removed: readonly { readonly sha256: string; readonly subject: string | null }[];
}

function summarize(cert: Decoded): CertSummary {
  return { entry: cert.entry, sha256: cert.sha256, ...describeInfo(cert.info) };
}

function describeInfo(info: CertInfo | null): Omit<CertSummary, "entry" | "sha256"> {
  return {
    subject: info ? dnText(info.subjectDer) : null,
    issuer: info ? dnText(info.issuerDer) : null,
    notBefore: info ? info.notBefore.toISOString() : null,
    notAfter: info ? info.notAfter.toISOString() : null,
  };
}

function dnText(der: Uint8Array): string | null {
  try {
    return formatDn(der, "rfc4514");
  } catch {
    return null;
  }
}

function role(t: Trusted): string {
  return t.depth === 0 ? `root ${t.root}` : `AC under root ${t.root} (depth ${t.depth})`;
}

/** Reads the bundle about to be replaced; a missing file is "no previous bundle", an unreadable one a note. */
export async function readPreviousBundle(path: string): Promise<{ certs: readonly CertInfo[] } | { note: string } | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    return { note: `previous bundle unreadable (${(err as NodeJS.ErrnoException).code ?? "error"})` };
  }
  try {
    return { certs: loadTrustAnchors([{ source: path, text }]).certs };
  } catch (err) {
    return { note: `previous bundle ignored: ${(err as Error).message}` };
  }
}

export function compareBundles(path: string, previous: Awaited<ReturnType<typeof readPreviousBundle>>, bundle: readonly Trusted[]): BundleChanges {
  const now = new Map(bundle.map((t) => [t.cert.sha256, dnText(t.cert.info.subjectDer)]));
  const before = new Map(previous && "certs" in previous ? previous.certs.map((c) => [c.sha256, dnText(c.subjectDer)]) : []);
  const entries = (from: Map<string, string | null>, without: Map<string, string | null>) =>
    [...from].filter(([sha256]) => !without.has(sha256)).map(([sha256, subject]) => ({ sha256, subject }));
  return {
    previous: previous === null ? null : path,
    ...(previous && "note" in previous ? { note: previous.note } : {}),
    added: entries(now, before),
    removed: entries(before, now),
  };
}

export function buildReport(input: {
  readonly generatedAt: Date;
  readonly source: ReportSource;
  readonly bundlePath: string;
  readonly pins: PinSet;
  readonly selection: Selection;
  readonly bundle: readonly Trusted[];
  readonly excluded: readonly Excluded[];
  readonly entrySkips: readonly EntrySkip[];
  readonly changes: BundleChanges;
}): TrustReport {
  const { selection } = input;
  const found = new Set(input.pins.pinned.filter((p) => !selection.missing.includes(p)).map((p) => p.name));
  const noCert = { sha256: null, subject: null, issuer: null, notBefore: null, notAfter: null };
  return {
    generatedAt: input.generatedAt.toISOString(),
    source: input.source,
    bundle: input.bundlePath,
    rule: `transport roots: ${input.pins.transportRoots.join(", ")}; bundle: ${TRANSPORT_RULE}`,
    pinnedRoots: input.pins.pinned.map((p) => ({ name: p.name, sha256: p.sha256, found: found.has(p.name) })),
    kept: input.bundle.map((t) => ({ ...summarize(t.cert), role: role(t) })),
    excluded: input.excluded.map((e) => ({ ...summarize(e.trusted.cert), root: e.trusted.root, code: e.code, reason: e.reason })),
    skipped: [
      ...input.entrySkips.map((s) => ({ entry: s.entry, ...noCert, code: s.code, reason: s.reason })),
      ...selection.rejected.map((r) => ({ ...summarize(r.cert), code: r.code, reason: r.reason })),
    ],
    retired: selection.retired.map(({ cert, pin }) => ({ ...summarize(cert), root: pin.name })),
    changes: input.changes,
  };
}

/** The bundle as PEM, each certificate preceded by `#` lines (ignored by OpenSSL and by loadTrustAnchors). */
export function renderBundle(bundle: readonly Trusted[], source: string): string {
  const header = `# ofb-edge trust bundle (mTLS transport). Source: ${source}\n# Rule: ${TRANSPORT_RULE}\n`;
  return header + bundle.map((t) => `\n# ${t.cert.info.label} (${role(t)})\n# SHA-256 ${t.cert.sha256}\n${t.cert.x509.toString().trim()}\n`).join("");
}
