import { pathToFileURL } from "node:url";
import type { Logger } from "../log/logger.js";
import { MAX_CLOCK_SKEW_MS, iso, type Authority, type LoadedCrl } from "./authority.js";
import type { LocalCrl, LocalCrlFiles } from "./local-files.js";
import { publicKeyOf, verifyCrl } from "./signature.js";

/**
 * Assigns local CRLs to ACs: a CRL goes to the AC whose subject matches its issuer (RFC 5280 §7.1) and whose key
 * verifies its signature (§6.3.3 (f)); a CRL that matches no AC known yet stays with the files and is offered
 * to each AC that appears later. The newest wins over the CRL held, whatever that one's source.
 */
export function createLocalOffer(o: {
  readonly files: LocalCrlFiles;
  readonly logger: Logger;
  readonly now: () => number;
  /** Puts a checked CRL in service for `a` (the refresher's). */
  readonly install: (a: Authority, loaded: LoadedCrl) => void;
}) {
  const { logger, now } = o;

  /** Offers `crls` to `a`; a match makes its file `a`'s source. Never rejects. */
  async function offer(a: Authority, crls: readonly LocalCrl[]): Promise<void> {
    for (const c of crls) {
      if (c.issuerKey !== a.cert.subjectKey) continue;
      const fields = { kind: "revocation", ac: a.cert.label, sha256: a.sha256, file: c.file, crl: c.index };
      try {
        a.key ??= publicKeyOf(a.cert);
        await verifyCrl(c.parsed, a.cert, a.key);
      } catch (err) {
        logger.warn({ ...fields, event: "crl-file-refused", reason: (err as Error).message }, "a local CRL names this AC but does not verify with its key");
        continue;
      }
      a.file = c.file;
      if (a.crl && c.parsed.thisUpdate <= a.crl.parsed.thisUpdate) {
        logger.debug({ ...fields, event: "crl-file-not-newer", thisUpdate: iso(c.parsed.thisUpdate) }, "local CRL not newer than the one held");
        continue;
      }
      if (c.parsed.thisUpdate > now() + MAX_CLOCK_SKEW_MS) {
        logger.warn({ ...fields, event: "crl-file-refused", reason: `thisUpdate ${iso(c.parsed.thisUpdate)} is in the future` }, "local CRL refused");
        continue;
      }
      o.install(a, { parsed: c.parsed, source: { url: pathToFileURL(c.file).href, fetchedAt: now(), etag: null, lastModified: null } });
    }
  }

  return {
    /** Offers every CRL the files hold to an AC (one just learned). */
    offerAll: (a: Authority) => offer(a, o.files.all()),
    /** Reads changed files and offers what they hold to every AC in `authorities`. */
    async scan(authorities: Iterable<Authority>): Promise<void> {
      const fresh = await o.files.scan();
      if (fresh.length > 0) await Promise.all([...authorities].map((a) => offer(a, fresh)));
    },
  };
}
