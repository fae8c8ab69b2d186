import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { isSelfIssued } from "../pki/certificate.js";
import { decodeEntry, type Decoded, type EntrySkip, type SourceEntry } from "./candidates.js";
import { DownloadError, fetchBytes, fetchText, type HttpOptions } from "./download.js";
import { BundleIntegrityError, checkSha512, parseSha512File, readZipEntries, type ZipLimits } from "./iti-zip.js";
import { checkPinSet, type PinSet, type RootPin } from "../pki/icp-brasil-roots.js";
import { buildReport, compareBundles, readPreviousBundle, renderBundle, type ReportSource, type TrustReport } from "./report.js";
import { readLocalSource, SourceFileError, type Sha512Expectation } from "./local.js";
import { JwksDocumentError, readRootsJwks } from "./roots-jwks.js";
import { selectTrusted, type Selection } from "./select.js";
import { selectTransport } from "./transport.js";

/** Where candidate certificates come from. */
export type TrustSource =
  | { readonly kind: "iti-zip"; readonly bundleUrl: string; readonly sha512Url: string }
  | { readonly kind: "roots-jwks"; readonly url: string }
  /** A local PEM whose self-signed certificates are the anchors (the OFB sandbox PKI has no published pins). */
  | { readonly kind: "sandbox-file"; readonly path: string }
  /** `--from`: a local zip, PEM or DER file, or folder (air-gapped hosts); pinned like a download. */
  | { readonly kind: "local"; readonly path: string; readonly sha512: Sha512Expectation | null };

export interface TrustLimits extends ZipLimits {
  readonly maxZipBytes: number;
  readonly maxHashFileBytes: number;
  readonly maxJwksBytes: number;
  readonly maxFileBytes: number;
}

/** Explicit defaults: the ITI zip of 2026-06-25 holds 173 certificates in well under 1 MiB. */
export const DEFAULT_TRUST_LIMITS: TrustLimits = {
  maxZipBytes: 32 * 1024 * 1024,
  maxHashFileBytes: 4096,
  maxJwksBytes: 4 * 1024 * 1024,
  maxFileBytes: 4 * 1024 * 1024,
  maxEntries: 2000,
  maxEntryBytes: 64 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
};

export interface BuildTrustBundleOptions {
  readonly source: TrustSource;
  /** Ignored for `sandbox-file`, whose pins are the file's own roots. */
  readonly pins: PinSet;
  readonly out: string;
  readonly reportPath: string;
  /** The validation clock: expired certificates are skipped. */
  readonly now: Date;
  readonly http: HttpOptions;
  readonly limits: TrustLimits;
}

export type TrustFailureCode = "DOWNLOAD_FAILED" | "HASH_FILE_INVALID" | "HASH_MISMATCH" | "ZIP_INVALID" | "JWKS_INVALID" | "SOURCE_FILE_INVALID" | "NO_PINNED_ROOT" | "NO_TRANSPORT_ROOT" | "WRITE_FAILED";

export type BuildTrustBundleResult =
  | { readonly status: "written"; readonly report: TrustReport }
  | { readonly status: "failed"; readonly code: TrustFailureCode; readonly message: string };

/**
 * `trust fetch`: loads candidates from the source, keeps the pinned roots and what chains to them, restricts
 * the result to the transport store, and writes the PEM bundle and the JSON report. Any failure before the
 * write leaves both files as they were: the last good set stays (docs/architecture.md §Trust).
 */
export async function buildTrustBundle(options: BuildTrustBundleOptions): Promise<BuildTrustBundleResult> {
  let loaded: { entries: SourceEntry[]; skipped: EntrySkip[]; source: ReportSource };
  try {
    loaded = await loadSource(options);
  } catch (err) {
    return { status: "failed", code: failureCode(err), message: (err as Error).message };
  }
  const entrySkips = [...loaded.skipped];
  const decoded: Decoded[] = [];
  for (const entry of loaded.entries) {
    const result = decodeEntry(entry);
    if (Array.isArray(result)) decoded.push(...result);
    else entrySkips.push(result);
  }
  const pins = options.source.kind === "sandbox-file" ? sandboxPins(decoded) : options.pins;
  if (pins.pinned.length === 0) return { status: "failed", code: "NO_PINNED_ROOT", message: `${sourceLabel(loaded.source)} holds no self-signed root` };
  checkPinSet(pins);
  const selection = selectTrusted(decoded, pins, options.now);
  const rootProblem = transportRootProblem(selection, pins);
  if (rootProblem) return { status: "failed", ...rootProblem };

  const { bundle, excluded } = selectTransport(selection.trusted, pins.transportRoots);
  const changes = compareBundles(options.out, await readPreviousBundle(options.out), bundle);
  const report = buildReport({ generatedAt: options.now, source: loaded.source, bundlePath: options.out, pins, selection, bundle, excluded, entrySkips, changes });
  try {
    await writeAtomically([
      { path: options.out, text: renderBundle(bundle, sourceLabel(loaded.source)) },
      { path: options.reportPath, text: `${JSON.stringify(report, null, 2)}\n` },
    ]);
  } catch (err) {
    return { status: "failed", code: "WRITE_FAILED", message: (err as Error).message };
  }
  return { status: "written", report };
}

async function loadSource(options: BuildTrustBundleOptions): Promise<{ entries: SourceEntry[]; skipped: EntrySkip[]; source: ReportSource }> {
  const { source, limits, http } = options;
  switch (source.kind) {
    case "iti-zip": {
      // The hash first: a hash file that is missing or malformed stops the run before the larger download.
      const zipName = basename(new URL(source.bundleUrl).pathname);
      const hashText = await fetchText(source.sha512Url, limits.maxHashFileBytes, "the hash file limit", http);
      const expected = parseSha512File(hashText, zipName, redactUrl(source.sha512Url));
      const zip = await fetchBytes(source.bundleUrl, limits.maxZipBytes, "the zip size limit", http);
      const sha512 = checkSha512(zip, expected, redactUrl(source.bundleUrl), redactUrl(source.sha512Url));
      return { ...readZipEntries(zip, limits, redactUrl(source.bundleUrl)), source: { kind: "iti-zip", url: redactUrl(source.bundleUrl), sha512Url: redactUrl(source.sha512Url), sha512 } };
    }
    case "roots-jwks": {
      const text = await fetchText(source.url, limits.maxJwksBytes, "the JWK Set size limit", http);
      return { ...readRootsJwks(text, redactUrl(source.url)), source: { kind: "roots-jwks", url: redactUrl(source.url) } };
    }
    case "sandbox-file": {
      const bytes = await readSourceFile(source.path, limits.maxFileBytes);
      return { entries: [{ name: basename(source.path), bytes }], skipped: [], source: { kind: "sandbox-file", path: source.path } };
    }
    case "local":
      return readLocalSource(source.path, source.sha512, limits);
  }
}

async function readSourceFile(path: string, maxBytes: number): Promise<Uint8Array> {
  try {
    const size = (await stat(path)).size;
    if (size > maxBytes) throw new SourceFileError(`${path}: ${size} bytes exceeds ${maxBytes}`);
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if (err instanceof SourceFileError) throw err;
    throw new SourceFileError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** The failure code of an error loadSource raises on purpose; anything else is a bug and propagates. */
function failureCode(err: unknown): TrustFailureCode {
  if (err instanceof BundleIntegrityError) return err.code;
  if (err instanceof DownloadError) return "DOWNLOAD_FAILED";
  if (err instanceof JwksDocumentError) return "JWKS_INVALID";
  if (err instanceof SourceFileError) return "SOURCE_FILE_INVALID";
  throw err;
}

/**
 * The OFB sandbox CAs are published (specs-directory root-ca.pem, issuer-ca.pem) without pinned fingerprints: the
 * operator's file is the anchor set.
 */
function sandboxPins(decoded: readonly Decoded[]): PinSet {
  const pinned = new Map<string, RootPin>();
  for (const d of decoded) {
    if (d.info === null || !isSelfIssued(d.info) || pinned.has(d.sha256)) continue;
    const taken = [...pinned.values()].some((p) => p.name === d.info!.label);
    pinned.set(d.sha256, { name: taken ? `${d.info.label} (${d.sha256.slice(0, 12)})` : d.info.label, sha256: d.sha256 });
  }
  return { pinned: [...pinned.values()], retired: [], transportRoots: [...pinned.values()].map((p) => p.name) };
}

function transportRootProblem(selection: Selection, pins: PinSet): { code: TrustFailureCode; message: string } | null {
  if (selection.missing.length === pins.pinned.length) {
    const names = pins.pinned.map((p) => p.name).join(", ");
    return { code: "NO_PINNED_ROOT", message: `no pinned root (${names}) is usable in the source${rejectionNotes(selection, pins.pinned.map((p) => p.name), pins)}` };
  }
  const missing = selection.missing.filter((p) => pins.transportRoots.includes(p.name));
  if (missing.length === 0) return null;
  return {
    code: "NO_TRANSPORT_ROOT",
    message: `transport root ${missing.map((p) => p.name).join(", ")} is not usable in the source${rejectionNotes(selection, missing.map((p) => p.name), pins)}`,
  };
}

function rejectionNotes(selection: Selection, names: readonly string[], pins: PinSet): string {
  const hashes = new Set(pins.pinned.filter((p) => names.includes(p.name)).map((p) => p.sha256));
  const notes = selection.rejected.filter((r) => hashes.has(r.cert.sha256)).map((r) => `${r.cert.entry}: ${r.reason} (${r.code})`);
  return notes.length === 0 ? "" : `: ${notes.join("; ")}`;
}

function sourceLabel(source: ReportSource): string {
  switch (source.kind) {
    case "iti-zip":
      return `${source.url} (SHA-512 ${source.sha512})`;
    case "roots-jwks":
      return source.url;
    case "local-zip":
      return `${source.path} (SHA-512 ${source.sha512}, ${source.checkedAgainst === null ? "not checked" : `checked against ${source.checkedAgainst}`})`;
    default:
      return source.path;
  }
}

/** A URL as it may appear in messages and files: without userinfo. */
function redactUrl(url: string): string {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.toString();
}

/** Writes every file next to its target, then renames them into place, so no reader sees half a bundle. */
async function writeAtomically(files: readonly { path: string; text: string }[]): Promise<void> {
  const staged = files.map((f) => ({ ...f, tmp: `${f.path}.${randomUUID().slice(0, 8)}.tmp` }));
  try {
    for (const f of staged) {
      await mkdir(dirname(f.path), { recursive: true });
      await writeFile(f.tmp, f.text, { mode: 0o644 });
    }
    for (const f of staged) await rename(f.tmp, f.path);
  } finally {
    await Promise.all(staged.map((f) => rm(f.tmp, { force: true })));
  }
}
