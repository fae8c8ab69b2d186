import { createHash } from "node:crypto";
import { unzipSync, type UnzipFileInfo } from "fflate";
import type { EntrySkip, SourceEntry } from "./candidates.js";

/** Bounds on the zip's contents: the entry count and the total size are capped (docs/architecture.md §Trust). */
export interface ZipLimits {
  readonly maxEntries: number;
  /** Per entry, uncompressed: a certificate is a few KiB. */
  readonly maxEntryBytes: number;
  /** All extracted entries together, uncompressed. */
  readonly maxTotalBytes: number;
}

/** The zip or its hash file is unusable: the whole run fails and nothing is written. */
export class BundleIntegrityError extends Error {
  override readonly name = "BundleIntegrityError";
  constructor(
    readonly code: "HASH_FILE_INVALID" | "HASH_MISMATCH" | "ZIP_INVALID",
    message: string,
  ) {
    super(message);
  }
}

const SHA512_LINE = /^([0-9a-fA-F]{128})(?:[ \t]+\*?(.+?))?\s*$/;

/**
 * Reads the SHA-512 published next to the zip (`hashsha512.txt`, `sha512sum` format `<128 hex>  ACcompactado.zip`, as
 * the ITI repository publishes it). With several lines, the one naming `zipName` counts; a bare hash is accepted
 * alone.
 * @returns the hash in lowercase hex.
 */
export function parseSha512File(text: string, zipName: string, source: string): string {
  const lines = text.replace(/^\ufeff/, "").split(/\r?\n/).filter((l) => l.trim() !== "");
  const parsed = lines.map((l) => SHA512_LINE.exec(l.trim()));
  if (parsed.some((m) => m === null) || parsed.length === 0) {
    throw new BundleIntegrityError("HASH_FILE_INVALID", `${source} is not in sha512sum format (<128 hex digits>  <file name>)`);
  }
  const named = parsed.filter((m) => m![2] === zipName);
  const chosen = named.length === 1 ? named[0] : parsed.length === 1 ? parsed[0] : undefined;
  if (!chosen) throw new BundleIntegrityError("HASH_FILE_INVALID", `${source} lists ${parsed.length} hashes and none for exactly '${zipName}'`);
  return chosen[1]!.toLowerCase();
}

/**
 * SHA-512 of the zip against the published value: integrity only, since ITI publishes `hashsha512.txt` on the
 * same host as the zip.
 * @param zipSource the zip's URL or path, for the message.
 * @param hashSource where `expected` came from (the hash file's URL or path, or `--sha512`), for the message.
 * @returns the zip's SHA-512 in lowercase hex.
 */
export function checkSha512(zip: Uint8Array, expected: string, zipSource: string, hashSource: string): string {
  const actual = createHash("sha512").update(zip).digest("hex");
  if (actual !== expected) {
    throw new BundleIntegrityError("HASH_MISMATCH", `SHA-512 of ${zipSource} is ${actual}, but ${hashSource} gives ${expected}: the zip is corrupt or tampered with`);
  }
  return actual;
}

const DEFLATE = 8;
const STORED = 0;

/**
 * Extracts the `*.crt` entries without touching the disk. An entry with `..`, `/` or `\` in its name,
 * another extension, an unknown compression or an oversized declared size is passed over and reported.
 * fflate inflates into a buffer of the declared size, so a lying header cannot grow memory past the caps.
 */
export function readZipEntries(zip: Uint8Array, limits: ZipLimits, source: string): { entries: SourceEntry[]; skipped: EntrySkip[] } {
  const skipped: EntrySkip[] = [];
  let count = 0;
  let total = 0;
  const accept = (file: UnzipFileInfo): boolean => {
    if (++count > limits.maxEntries) throw new BundleIntegrityError("ZIP_INVALID", `${source} has more than ${limits.maxEntries} entries`);
    // A folder entry holds nothing; the certificates inside it are entries of their own (and unsafe names).
    if (file.name.endsWith("/")) return false;
    const skip = entrySkip(file, limits);
    if (skip) {
      skipped.push(skip);
      return false;
    }
    total += file.originalSize;
    if (total > limits.maxTotalBytes) throw new BundleIntegrityError("ZIP_INVALID", `${source} expands to more than ${limits.maxTotalBytes} bytes`);
    return true;
  };
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, { filter: accept });
  } catch (err) {
    if (err instanceof BundleIntegrityError) throw err;
    throw new BundleIntegrityError("ZIP_INVALID", `${source} is not a readable zip (${(err as Error).message})`);
  }
  const entries = Object.entries(files)
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entries, skipped };
}

function entrySkip(file: UnzipFileInfo, limits: ZipLimits): EntrySkip | null {
  const entry = file.name;
  if (/[/\\]|\.\./.test(entry)) return { entry, code: "UNSAFE_NAME", reason: "name contains '..', '/' or '\\'" };
  if (!/\.crt$/i.test(entry)) return { entry, code: "NOT_CRT", reason: "not a .crt entry" };
  if (file.compression !== STORED && file.compression !== DEFLATE) {
    return { entry, code: "UNSUPPORTED_COMPRESSION", reason: `compression method ${file.compression} (only stored and deflate are read)` };
  }
  if (file.originalSize > limits.maxEntryBytes) return { entry, code: "TOO_LARGE", reason: `${file.originalSize} bytes exceeds ${limits.maxEntryBytes}` };
  return null;
}
