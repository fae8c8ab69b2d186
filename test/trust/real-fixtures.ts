import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync } from "fflate";
import { decodeEntry, type Decoded, type SourceEntry } from "../../src/trust/candidates.js";
import { packageRoot } from "../../src/package-root.js";

/** The real ICP-Brasil artefacts (test/fixtures/icp-brasil/SOURCES.md says where each comes from). */
export const FIXTURES = join(packageRoot(), "test", "fixtures");
export const ICP = join(FIXTURES, "icp-brasil");
export const BUNDLE_2026 = join(ICP, "iti-2026-06-25");
export const WITHDRAWN = join(ICP, "withdrawn");
export const LEAVES = join(ICP, "leaves");
export const ZIP_2020 = join(ICP, "iti-2020-01-09", "ACcompactado.zip");
export const HASH_2020 = join(ICP, "iti-2020-01-09", "hashsha512.txt");

/** An instant at which every AC of the 2026-06-25 bundle that is still published is valid. */
export const BUNDLE_2026_AT = new Date("2026-07-01T00:00:00Z");

/** Every file of a fixture folder as a source entry, in name order. */
export function folderEntries(dir: string): SourceEntry[] {
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
}

/** Decodes entries the way `trust fetch` does; an entry that is not a certificate fails the test helper. */
export function decodeAll(entries: readonly SourceEntry[]): Decoded[] {
  return entries.flatMap((entry) => {
    const result = decodeEntry(entry);
    if (!Array.isArray(result)) throw new Error(`${entry.name}: ${result.reason}`);
    return result;
  });
}

/** The DER of one certificate file (PEM or DER). */
export function certificateDer(path: string): Uint8Array {
  const decoded = decodeAll([{ name: path, bytes: new Uint8Array(readFileSync(path)) }]);
  if (decoded.length !== 1) throw new Error(`${path} holds ${decoded.length} certificates`);
  return decoded[0]!.der;
}

/** A zip of the 2026-06-25 bundle files, as ITI ships them (one `.crt` per certificate, no folder). */
export function zipOfBundle2026(): Uint8Array {
  return zipSync(Object.fromEntries(folderEntries(BUNDLE_2026).map((e) => [e.name, e.bytes])));
}

/**
 * What `trust fetch` keeps from the 2026-06-25 bundle: root v10 and the v10 SSL ACs whose extendedKeyUsage
 * includes clientAuth or is absent (file, CN, SHA-256 of the DER).
 */
export const TRANSPORT_2026: readonly (readonly [string, string, string])[] = [
  ["ICP-Brasilv10.crt", "Autoridade Certificadora Raiz Brasileira v10", "6e0bff069a26994c15de2c4888cc54af84882e5495b7fbf66be9ccffec7489f6"],
  ["AC-Certisign-ICP-Brasil-SSL-EV-G3.crt", "AC Certisign ICP-Brasil SSL EV G3", "692f652f1fb5593a1701284d97fc847ee5bf17793c1f3eb56db552c5ac685b32"],
  ["AC-Certisign-ICP-Brasil-SSL-EV-G4.crt", "AC Certisign ICP-Brasil SSL EV G4", "1e36dcc28bc6fbdb23d5df49e55cfb6b27e29d99cc0d555226c2e1e07b838a23"],
  ["AC-SERPRO-SSLv1-v10.crt", "Autoridade Certificadora do SERPRO SSLv1", "08fc942d5176e568acbef9c595f36a20de6acf9ea30c6f5fcedd48216ed5b070"],
  ["AC-SOLUTI-SSL-EV-G3.crt", "AC SOLUTI SSL EV G3", "541514cc3289190fc5c18ffb4487a15043ffcbf114cb3024c52e709536589c4d"],
  ["AC-SOLUTI-SSL-EV-G4.crt", "AC SOLUTI SSL EV G4", "8e30f7f0b678ca1440a94a5be416bed9ae5aff7f0f2e08d4bbe28af2c8eb8660"],
  ["AC-VALID-SSL-EV.crt", "AC VALID SSL EV", "ad960d6a51af58e1ec09ee05e6df827a7718379cabf0a5529de4b01c122908c0"],
  ["AC_Certisign_ICP_Brasil_SSL_G5.crt", "AC Certisign ICP-Brasil SSL G5", "c98b8c986c6e46386fb8b1190e1c993fcd71c996e30ff110ed757fb9c56c3e7e"],
];

/** The v10 SSL ACs of the 2026-06-25 bundle whose extendedKeyUsage is serverAuth only. */
export const SERVER_ONLY_2026: readonly (readonly [string, string])[] = [
  ["AC-CERTISIGN-ICP-BRASIL-SSL-G2.crt", "55a489f60f785bebe042e99a69ac8ec33c9f17374cc4b766f604cf7079ea09ba"],
  ["AC-SOLUTI-SSL-EV-G2.crt", "8606539037b8ff9d1eb2e8831312cbc667c824e9e5aa2dbb326172446f441e27"],
];

export const ROOT_V10_SHA256 = "6e0bff069a26994c15de2c4888cc54af84882e5495b7fbf66be9ccffec7489f6";
export const ROOT_V7_SHA256 = "5657e70580eb678983f3ed7dfce091d84cae6549389a47fccda8d0e4dc2cf576";
