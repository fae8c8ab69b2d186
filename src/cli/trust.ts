import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Dispatcher } from "undici";
import { createOutboundDispatcher } from "../net/dispatcher.js";
import { buildTrustBundle, DEFAULT_TRUST_LIMITS, type TrustLimits, type TrustSource } from "../trust/build.js";
import { checkPinSet, ICP_BRASIL_PINS, type PinSet } from "../pki/icp-brasil-roots.js";
import type { ReportSource, TrustReport } from "../trust/report.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

/**
 * The ITI repository's bundle of ICP-Brasil AC certificates and its published SHA-512 (gov.br/iti,
 * repositorio-ac-raiz).
 */
const ITI_BUNDLE_URL = "https://acraiz.icpbrasil.gov.br/credenciadas/CertificadosAC-ICP-Brasil/ACcompactado.zip";
const ITI_SHA512_URL = "https://acraiz.icpbrasil.gov.br/credenciadas/CertificadosAC-ICP-Brasil/hashsha512.txt";
/** The OFB Directory's trust anchors, CA certificates as JWK `x5c` (OFB Directory, roots.jwks). */
const ROOTS_JWKS_URL = "https://data.directory.openbankingbrasil.org.br/roots.jwks";
const DEFAULT_OUT = { "icp-brasil": ".ofb-edge/trust/icp-brasil-transport.pem", sandbox: ".ofb-edge/trust/ofb-sandbox-transport.pem" } as const;
const DEFAULT_TIMEOUT_SECONDS = 60;
const SHA512_HEX = /^[0-9a-fA-F]{128}$/;

export const USAGE = `Usage: ofb-edge trust fetch [options]

Builds the mTLS transport trust bundle: root v10 and the v10 ACs usable for client certificates
(extendedKeyUsage absent or with clientAuth), from candidates checked against the pinned roots.

  --source iti-zip|roots-jwks  where the candidates come from (default iti-zip)
  --from FILE|DIR              no download (air-gapped hosts): a zip like the ITI's, a PEM file with any number
                               of certificates, a DER certificate, or a folder of .crt/.cer/.pem/.der files
                               (not recursive); pinned and selected like a download
  --sha512 FILE|HEX            with --from ZIP: the zip's published SHA-512 (hashsha512.txt, sha512sum format)
                               or the 128 hex digits; without it the zip's hash is reported as not checked
  --bundle-url URL             ITI zip (default ${ITI_BUNDLE_URL})
  --sha512-url URL             its published SHA-512, sha512sum format (default ${ITI_SHA512_URL})
  --roots-jwks-url URL         with --source roots-jwks (default ${ROOTS_JWKS_URL})
  --preset icp-brasil|sandbox  sandbox: the OFB sandbox CAs from --sandbox-cas, no download (default icp-brasil)
  --sandbox-cas FILE           PEM with the sandbox root(s) and issuing CA(s); its self-signed roots are the anchors
  --out FILE                   bundle to write (default ${DEFAULT_OUT["icp-brasil"]}; sandbox: ${DEFAULT_OUT.sandbox})
  --report FILE                JSON report (default: next to --out, <name>.report.json)
  --timeout SECONDS            per download (default ${DEFAULT_TIMEOUT_SECONDS})

Exit status: 0 bundle written, 1 failure (download or file, SHA-512 mismatch, no pinned root; nothing written), 2 usage.`;

/** What tests (and only tests) replace: the pins, the clock, the HTTP dispatcher, the limits. */
export interface TrustCliDeps {
  readonly pins?: PinSet;
  readonly now?: () => Date;
  readonly dispatcher?: Dispatcher;
  readonly limits?: TrustLimits;
}

type Values = {
  source?: string;
  from?: string;
  sha512?: string;
  "bundle-url"?: string;
  "sha512-url"?: string;
  "roots-jwks-url"?: string;
  preset?: string;
  "sandbox-cas"?: string;
  out?: string;
  report?: string;
  timeout?: string;
  help?: boolean;
};

/**
 * `ofb-edge trust fetch`: builds the ICP-Brasil (or OFB sandbox) transport bundle and its report.
 *
 * @param argv the arguments after `trust`, e.g. `["fetch", "--out", "ca.pem"]`.
 * @param deps the pinned roots (default {@link ICP_BRASIL_PINS}), clock, dispatcher and limits.
 * @returns 0 when the bundle was written, 1 on a failure (nothing written), 2 on a usage error.
 */
export async function runTrust(argv: string[], io: Io, deps: TrustCliDeps = {}): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (sub !== "fetch") {
    io.stderr(`ofb-edge trust: ${sub === undefined ? "missing sub-command" : `unknown sub-command '${sub}'`} (expected 'fetch')\n\n${USAGE}`);
    return 2;
  }
  let values: Values;
  try {
    values = parseArgs({
      args: rest,
      options: {
        ...Object.fromEntries(
          ["source", "from", "sha512", "bundle-url", "sha512-url", "roots-jwks-url", "preset", "sandbox-cas", "out", "report", "timeout"].map((name) => [name, { type: "string" as const }]),
        ),
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values as Values;
  } catch (err) {
    // parseArgs names the offending option or positional in its message (ERR_PARSE_ARGS_*).
    return usageError(io, err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  const parsed = interpret(values);
  if (typeof parsed === "string") return usageError(io, parsed);
  const pins = deps.pins ?? ICP_BRASIL_PINS;
  checkPinSet(pins);

  const dispatcher = deps.dispatcher ?? createOutboundDispatcher();
  let result;
  try {
    result = await buildTrustBundle({
      source: parsed.source,
      pins,
      out: parsed.out,
      reportPath: parsed.report,
      now: (deps.now ?? (() => new Date()))(),
      http: { timeoutMs: parsed.timeoutMs, dispatcher },
      limits: deps.limits ?? DEFAULT_TRUST_LIMITS,
    });
  } finally {
    if (!deps.dispatcher) await dispatcher.close();
  }
  if (result.status === "failed") {
    io.stderr(`ofb-edge trust fetch: ${result.message} [${result.code}]; nothing written`);
    return 1;
  }
  printSummary(result.report, parsed.report, io);
  return 0;
}

function usageError(io: Io, message: string): number {
  io.stderr(`ofb-edge trust fetch: ${message}\n\n${USAGE}`);
  return 2;
}

/** Flags to a source and paths, or the usage error. */
function interpret(v: Values): { source: TrustSource; out: string; report: string; timeoutMs: number } | string {
  const preset = v.preset ?? "icp-brasil";
  if (preset !== "icp-brasil" && preset !== "sandbox") return `--preset must be icp-brasil or sandbox, not '${preset}'`;
  const kind = v.source ?? "iti-zip";
  if (kind !== "iti-zip" && kind !== "roots-jwks") return `--source must be iti-zip or roots-jwks, not '${kind}'`;
  const timeout = Number(v.timeout ?? DEFAULT_TIMEOUT_SECONDS);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 600) return "--timeout takes a number of seconds between 0 and 600";
  const remoteFlags = (["bundle-url", "sha512-url", "roots-jwks-url", "source"] as const).filter((f) => v[f] !== undefined);
  let source: TrustSource;
  if (preset === "sandbox") {
    const other = [...remoteFlags, ...(["from", "sha512"] as const).filter((f) => v[f] !== undefined)];
    if (other.length > 0) return `--preset sandbox reads --sandbox-cas only; --${other[0]} does not apply`;
    if (v["sandbox-cas"] === undefined) return "--preset sandbox needs --sandbox-cas FILE (the reference gives the sandbox CA names, not their certificates)";
    source = { kind: "sandbox-file", path: v["sandbox-cas"] };
  } else if (v.from !== undefined) {
    const downloadFlags = [...remoteFlags, ...(v.timeout === undefined ? [] : ["timeout"]), ...(v["sandbox-cas"] === undefined ? [] : ["sandbox-cas"])];
    if (downloadFlags.length > 0) return `--from reads a local source; --${downloadFlags[0]} does not apply`;
    if (v.from === "") return "--from needs a file or folder path";
    if (v.sha512 === "") return "--sha512 needs a hash file or 128 hex digits";
    source = { kind: "local", path: v.from, sha512: v.sha512 === undefined ? null : SHA512_HEX.test(v.sha512) ? { hex: v.sha512.toLowerCase() } : { file: v.sha512 } };
  } else if (v.sha512 !== undefined) {
    return "--sha512 goes with --from (a local zip); a download is checked against --sha512-url";
  } else {
    if (v["sandbox-cas"] !== undefined) return "--sandbox-cas goes with --preset sandbox";
    if (kind === "iti-zip" && v["roots-jwks-url"] !== undefined) return "--roots-jwks-url goes with --source roots-jwks";
    if (kind === "roots-jwks" && (v["bundle-url"] ?? v["sha512-url"]) !== undefined) return "--bundle-url and --sha512-url go with --source iti-zip";
    const urls = kind === "iti-zip" ? [v["bundle-url"] ?? ITI_BUNDLE_URL, v["sha512-url"] ?? ITI_SHA512_URL] : [v["roots-jwks-url"] ?? ROOTS_JWKS_URL];
    const bad = urls.find((u) => !isHttpUrl(u));
    if (bad !== undefined) return `'${bad}' is not an http(s) URL`;
    source = kind === "iti-zip" ? { kind, bundleUrl: urls[0]!, sha512Url: urls[1]! } : { kind, url: urls[0]! };
  }
  const out = v.out ?? DEFAULT_OUT[preset];
  if (v.report !== undefined && resolve(v.report) === resolve(out)) return "--report must differ from --out";
  return { source, out, report: v.report ?? defaultReportPath(out), timeoutMs: timeout * 1000 };
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

function defaultReportPath(out: string): string {
  const name = out.slice(dirname(out).length + 1).replace(/\.pem$/i, "");
  return join(dirname(out), `${name}.report.json`);
}

function sourceLine(source: ReportSource): string {
  switch (source.kind) {
    case "iti-zip":
      return `source ${source.url}: SHA-512 matches ${source.sha512Url}`;
    case "roots-jwks":
      return `source ${source.url}`;
    case "local-zip":
      return source.checkedAgainst === null
        ? `source ${source.path}: SHA-512 ${source.sha512} NOT CHECKED (give --sha512 FILE|HEX to check it)`
        : `source ${source.path}: SHA-512 matches ${source.checkedAgainst}`;
    case "local-folder":
      return `source folder ${source.path}: ${source.files} certificate file(s)`;
    default:
      return `source ${source.path}`;
  }
}

function printSummary(report: TrustReport, reportPath: string, io: Io): void {
  io.stdout(sourceLine(report.source));
  const found = report.pinnedRoots.filter((r) => r.found).map((r) => r.name);
  const missing = report.pinnedRoots.filter((r) => !r.found).map((r) => r.name);
  io.stdout(`pinned roots found: ${found.join(", ") || "none"}${missing.length > 0 ? `; not usable: ${missing.join(", ")}` : ""}`);
  for (const s of report.skipped) io.stdout(`skipped ${s.entry}: ${s.reason} [${s.code}]${s.sha256 ? ` sha256=${s.sha256}` : ""}`);
  for (const r of report.retired) io.stdout(`retired ${r.entry}: root ${r.root} (reported, never trusted) sha256=${r.sha256}`);
  // Most of the zip is the v5/v12 hierarchies: counted per root here, listed one by one in the report.
  const otherRoots = new Map<string, number>();
  for (const e of report.excluded) {
    if (e.code !== "OTHER_ROOT") io.stdout(`not transport ${e.entry}: ${e.reason} [${e.code}]`);
    else otherRoots.set(e.root, (otherRoots.get(e.root) ?? 0) + 1);
  }
  for (const [root, n] of otherRoots) io.stdout(`not transport: ${n} certificate(s) under root ${root} [OTHER_ROOT]`);
  const changes = report.changes;
  if (changes.note) io.stdout(`note: ${changes.note}`);
  if (changes.previous === null) io.stdout("no previous bundle: every certificate is new");
  for (const a of changes.added) io.stdout(`+ added   ${a.subject ?? "?"} sha256=${a.sha256}`);
  for (const r of changes.removed) io.stdout(`- removed ${r.subject ?? "?"} sha256=${r.sha256}`);
  if (changes.previous !== null && changes.added.length + changes.removed.length === 0) io.stdout("unchanged since the previous bundle");
  const roots = report.kept.filter((k) => k.role.startsWith("root")).length;
  io.stdout(`wrote ${report.bundle}: ${roots} root(s) + ${report.kept.length - roots} AC(s); report ${reportPath}`);
}
