import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import type { EntrySkip, SourceEntry } from "./candidates.js";
import { checkSha512, parseSha512File, readZipEntries, type ZipLimits } from "./iti-zip.js";
import type { ReportSource } from "./report.js";

/** What a local zip's SHA-512 is checked against: a value given on the command line, or a `sha512sum` file. */
export type Sha512Expectation = { readonly hex: string } | { readonly file: string };

/** Bounds on what is read from disk; the same entry limits as the zip. */
export interface LocalLimits extends ZipLimits {
  readonly maxZipBytes: number;
  readonly maxHashFileBytes: number;
  /** A PEM file with many certificates, or one DER certificate. */
  readonly maxFileBytes: number;
}

/** A local source that cannot be read or is not what it claims: the run fails and nothing is written. */
export class SourceFileError extends Error {
  override readonly name = "SourceFileError";
}

/** Certificate files a folder source reads (the ITI zip names its entries `.crt`; operators also keep `.cer`, `.pem`, `.der`). */
const CERTIFICATE_FILE = new Set([".crt", ".cer", ".pem", ".der"]);

// A zip starts with a local file header, or with the end-of-central-directory record when it is empty (PKWARE APPNOTE.TXT 4.3.7, 4.3.16).
const isZip = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 0x03 && b[3] === 0x04) || (b[2] === 0x05 && b[3] === 0x06));

/**
 * `trust fetch --from PATH`, for hosts without Internet access: a zip like the ITI's (its SHA-512 checked when
 * an expectation is given, reported as unchecked otherwise), a PEM file with any number of certificates (LF or
 * CRLF, with or without a BOM), one DER certificate, or a folder of `.crt`/`.cer`/`.pem`/`.der` files (not
 * recursive; the zip's entry count and size limits apply). The candidates then go through the same pinning and
 * selection as a download.
 */
export async function readLocalSource(
  path: string,
  sha512: Sha512Expectation | null,
  limits: LocalLimits,
): Promise<{ entries: SourceEntry[]; skipped: EntrySkip[]; source: ReportSource }> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new SourceFileError(`${path}: cannot be read (${err.code ?? err.message})`);
  });
  if (info.isDirectory()) {
    if (sha512) throw new SourceFileError(`${path} is a folder, but --sha512 checks a zip`);
    return readFolder(path, limits);
  }
  if (!info.isFile()) throw new SourceFileError(`${path}: not a file or a folder`);
  if (info.size > Math.max(limits.maxZipBytes, limits.maxFileBytes)) throw new SourceFileError(`${path}: ${info.size} bytes exceeds the size limit`);
  const bytes = await readBytes(path);
  if (isZip(bytes)) {
    if (bytes.length > limits.maxZipBytes) throw new SourceFileError(`${path}: ${bytes.length} bytes exceeds the zip size limit (${limits.maxZipBytes})`);
    const expected = sha512 === null ? null : await expectedSha512(sha512, basename(path), limits);
    const actual = expected === null ? createHash("sha512").update(bytes).digest("hex") : checkSha512(bytes, expected.hex, path, expected.from);
    return { ...readZipEntries(bytes, limits, path), source: { kind: "local-zip", path, sha512: actual, checkedAgainst: expected?.from ?? null } };
  }
  if (sha512) throw new SourceFileError(`${path} is not a zip (a PEM or DER certificate file), but --sha512 checks a zip`);
  if (bytes.length > limits.maxFileBytes) throw new SourceFileError(`${path}: ${bytes.length} bytes exceeds the certificate file limit (${limits.maxFileBytes})`);
  return { entries: [{ name: basename(path), bytes }], skipped: [], source: { kind: "local-file", path } };
}

async function readFolder(path: string, limits: ZipLimits): Promise<{ entries: SourceEntry[]; skipped: EntrySkip[]; source: ReportSource }> {
  const names = (await readdir(path).catch((err: NodeJS.ErrnoException) => {
    throw new SourceFileError(`${path}: cannot be listed (${err.code ?? err.message})`);
  })).sort();
  if (names.length > limits.maxEntries) throw new SourceFileError(`${path} holds more than ${limits.maxEntries} entries`);
  const entries: SourceEntry[] = [];
  const skipped: EntrySkip[] = [];
  let total = 0;
  for (const name of names) {
    const file = join(path, name);
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) {
      skipped.push({ entry: name, code: "NOT_A_FILE", reason: "not a regular file (folders are not read recursively)" });
    } else if (!CERTIFICATE_FILE.has(extname(name).toLowerCase())) {
      skipped.push({ entry: name, code: "NOT_CERTIFICATE_FILE", reason: "not a .crt, .cer, .pem or .der file" });
    } else if (info.size > limits.maxEntryBytes) {
      skipped.push({ entry: name, code: "TOO_LARGE", reason: `${info.size} bytes exceeds ${limits.maxEntryBytes}` });
    } else {
      total += info.size;
      if (total > limits.maxTotalBytes) throw new SourceFileError(`${path}: its certificate files exceed ${limits.maxTotalBytes} bytes together`);
      entries.push({ name, bytes: await readBytes(file) });
    }
  }
  return { entries, skipped, source: { kind: "local-folder", path, files: entries.length } };
}

/** The expected SHA-512 in lowercase hex, and what it came from (the hash file, or the command line). */
async function expectedSha512(expectation: Sha512Expectation, zipName: string, limits: LocalLimits): Promise<{ hex: string; from: string }> {
  if ("hex" in expectation) return { hex: expectation.hex.toLowerCase(), from: "--sha512" };
  const info = await stat(expectation.file).catch((err: NodeJS.ErrnoException) => {
    throw new SourceFileError(`${expectation.file}: cannot be read (${err.code ?? err.message})`);
  });
  if (info.size > limits.maxHashFileBytes) throw new SourceFileError(`${expectation.file}: ${info.size} bytes exceeds the hash file limit (${limits.maxHashFileBytes})`);
  const text = Buffer.from(await readBytes(expectation.file)).toString("utf8");
  return { hex: parseSha512File(text, zipName, expectation.file), from: expectation.file };
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new SourceFileError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
