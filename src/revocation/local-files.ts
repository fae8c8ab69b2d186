import { statSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../log/logger.js";
import { nameKey } from "../pki/name-match.js";
import { crlDers, parseCrl, type ParsedCrl } from "./crl.js";

/** One CRL read from a local file, parsed but not yet verified against any AC. */
export interface LocalCrl {
  readonly file: string;
  /** 1-based position of the CRL in its file. */
  readonly index: number;
  readonly parsed: ParsedCrl;
  /** RFC 5280 §7.1 comparison key of its issuer name (pki/name-match.ts), matched against an AC's subject key. */
  readonly issuerKey: string;
}

/** The CRL files and folders of `revocation.crlFiles`, read again when they change. */
export interface LocalCrlFiles {
  /**
   * Reads the files that are new or changed (modification time or size) since the last scan, and forgets the
   * ones gone; resolves with the CRLs read now. Concurrent callers share one scan. Never rejects: a path that
   * cannot be read, a file that holds no CRL or a CRL that cannot be parsed is logged with the file and the
   * reason, and the others are read.
   */
  scan(): Promise<readonly LocalCrl[]>;
  /** Every CRL read from the files present at the last scan. */
  all(): readonly LocalCrl[];
}

interface FileState {
  readonly mtimeMs: number;
  readonly size: number;
  readonly crls: readonly LocalCrl[];
}

/**
 * Local CRL sources for an edge that cannot reach the ACs' distribution points (air-gapped): each configured
 * path is a file (DER, or PEM with one or more `X509 CRL` blocks) or a folder whose files are read (names
 * starting with "." are skipped, so are sub-folders). Throws when a configured path does not exist or cannot
 * be read now, naming `revocation.crlFiles[i]`: a typo must not leave revocation silently without its source.
 */
export function createLocalCrlFiles(paths: readonly string[], o: { readonly logger: Logger; readonly maxCrlBytes: number }): LocalCrlFiles {
  paths.forEach((path, i) => {
    try {
      statSync(path);
    } catch (err) {
      throw new Error(`revocation.crlFiles[${i}]: ${path}: ${reasonOf(err)}`, { cause: err });
    }
  });
  // A PEM file carries base64 (4/3 of the DER) and possibly several CRLs.
  const maxFileBytes = 2 * o.maxCrlBytes;
  const files = new Map<string, FileState>();
  const failing = new Map<string, string>();
  let scanning: Promise<readonly LocalCrl[]> | null = null;

  /** Logs a path's failure once until it changes or recovers. */
  function refuse(file: string, reason: string): void {
    if (failing.get(file) === reason) return;
    failing.set(file, reason);
    o.logger.warn({ kind: "revocation", event: "crl-file-refused", file, reason }, "local CRL file refused; the other files are read");
  }

  async function list(): Promise<string[]> {
    const found: string[] = [];
    for (const path of paths) {
      try {
        if (!(await stat(path)).isDirectory()) {
          found.push(path);
          continue;
        }
        const names = (await readdir(path)).filter((n) => !n.startsWith(".")).sort();
        found.push(...names.map((n) => join(path, n)));
        failing.delete(path);
      } catch (err) {
        refuse(path, reasonOf(err));
      }
    }
    return [...new Set(found)];
  }

  async function read(file: string, size: number): Promise<LocalCrl[]> {
    if (size > maxFileBytes) throw new Error(`${size} bytes, more than twice revocation.maxCrlBytes (${o.maxCrlBytes})`);
    const ders = crlDers(await readFile(file));
    const crls: LocalCrl[] = [];
    for (const [i, der] of ders.entries()) {
      const where = ders.length > 1 ? `CRL #${i + 1}: ` : "";
      try {
        if (der.length > o.maxCrlBytes) throw new Error(`${der.length} bytes exceeds revocation.maxCrlBytes (${o.maxCrlBytes})`);
        const parsed = await parseCrl(der);
        crls.push({ file, index: i + 1, parsed, issuerKey: nameKey(parsed.issuerDer) });
      } catch (err) {
        o.logger.warn({ kind: "revocation", event: "crl-file-refused", file, reason: `${where}${reasonOf(err)}` }, "a CRL in a local file refused; the others are read");
      }
    }
    return crls;
  }

  async function run(): Promise<readonly LocalCrl[]> {
    const present = await list();
    const fresh: LocalCrl[] = [];
    for (const file of present) {
      try {
        const s = await stat(file);
        if (!s.isFile()) continue;
        const held = files.get(file);
        if (held && held.mtimeMs === s.mtimeMs && held.size === s.size) continue;
        // Recorded before reading: a file that fails is not read again until it changes.
        files.set(file, { mtimeMs: s.mtimeMs, size: s.size, crls: [] });
        const crls = await read(file, s.size);
        files.set(file, { mtimeMs: s.mtimeMs, size: s.size, crls });
        failing.delete(file);
        fresh.push(...crls);
        o.logger.info({ kind: "revocation", event: "crl-file-read", file, crls: crls.length }, "local CRL file read");
      } catch (err) {
        refuse(file, reasonOf(err));
      }
    }
    const kept = new Set(present);
    for (const file of files.keys()) if (!kept.has(file)) files.delete(file);
    return fresh;
  }

  return {
    scan() {
      scanning ??= run().finally(() => void (scanning = null));
      return scanning;
    },
    all: () => [...files.values()].flatMap((f) => f.crls),
  };
}

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === "ENOENT") return "no such file or directory";
  if (e.code === "EACCES") return "permission denied";
  return e.message ?? String(err);
}
