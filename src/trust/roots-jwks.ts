import { parseJsonDocument } from "../directory/document.js";
import type { EntrySkip, SourceEntry } from "./candidates.js";

/** The JWK Set is not one: the whole run fails and nothing is written. */
export class JwksDocumentError extends Error {
  override readonly name = "JwksDocumentError";
}

// RFC 7517 §4.7: each x5c value is base64 (not base64url) DER.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The certificates of the OFB Directory's `roots.jwks` (CA certificates as JWK `x5c`), one entry
 * per `x5c` element so that the same pinning and filtering as for the ITI zip apply. A key without `x5c`
 * or an element that is not base64 is reported; a document that is not a JWK Set fails the run.
 */
export function readRootsJwks(text: string, source: string): { entries: SourceEntry[]; skipped: EntrySkip[] } {
  let doc: unknown;
  try {
    doc = parseJsonDocument(text, source);
  } catch (err) {
    throw new JwksDocumentError((err as Error).message);
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (typeof doc !== "object" || doc === null || !Array.isArray(keys)) throw new JwksDocumentError(`${source}: not a JWK Set (no "keys" array)`);
  const entries: SourceEntry[] = [];
  const skipped: EntrySkip[] = [];
  keys.forEach((key: unknown, i) => {
    const x5c = (key as { x5c?: unknown } | null)?.x5c;
    if (!Array.isArray(x5c) || x5c.length === 0) {
      skipped.push({ entry: `keys[${i}]`, code: "NOT_A_CERTIFICATE", reason: "JWK without an x5c array" });
      return;
    }
    x5c.forEach((value: unknown, j) => {
      const entry = `keys[${i}].x5c[${j}]`;
      if (typeof value !== "string" || !BASE64.test(value)) skipped.push({ entry, code: "NOT_A_CERTIFICATE", reason: "x5c element is not a base64 string" });
      else entries.push({ name: entry, bytes: new Uint8Array(Buffer.from(value, "base64")) });
    });
  });
  return { entries, skipped };
}
