import { randomUUID, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_TRANSPORT_ROOTS } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import { parseIdentity } from "../identity/parse.js";
import { loadTrustAnchors, type TrustAnchors } from "../pki/anchors.js";
import type { ChainLink } from "../pki/chain.js";
import { verifyPath } from "../pki/path.js";
import { checkValidity, createChainPolicy, type ChainFailure } from "../pki/policy.js";
import { x5tS256 } from "../pki/thumbprint.js";
import { loadProfiles, type LoadedProfiles } from "../profiles/load.js";
import { readTransportRoots } from "../tls/material.js";
import { reportConfigError } from "./config-error.js";
import { certificateFields } from "./inspect-fields.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const INSPECT_USAGE = `Usage: ofb-edge inspect CERT.pem [--trust-anchors FILE] [--transport-root SHA256|FILE ...] [--at INSTANT]
                        [--profile NAME ...] [--profile-file FILE ...]

What the edge makes of a client certificate file (the leaf first, then the certificates the client would
send): the identity fields it reads, x5t#S256, the chain as built with each certificate's role, the policy
verdict, and — when accepted — the header fields each profile would send.

  --trust-anchors FILE      as listeners[].tls.trustAnchors: roots, and optionally the ACs a client chain
                            may pass through (what 'ofb-edge trust fetch' writes)
  --transport-root X        a SHA-256 fingerprint or a PEM file of a transport root (repeatable), as
                            policy.transportRoots; default ICP-Brasil root v10
  --at INSTANT              judge at this instant (ISO 8601 with a zone, e.g. 2024-01-01T00:00:00Z): the
                            validity of every certificate of the chain; default now
  --profile NAME            only this header profile (repeatable; default every profile)
  --profile-file FILE       an operator's profile file to load (repeatable)
  -h, --help                this text

Exit status: 0 accepted; 1 refused, or a file cannot be read; 2 usage error.`;

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

interface Options {
  readonly file: string;
  readonly anchorsFile: string | undefined;
  readonly transportRoots: readonly string[];
  readonly at: Date | undefined;
  readonly profiles: readonly string[] | undefined;
  readonly profileFiles: readonly string[];
}

function parseOptions(argv: string[]): Options | "help" | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        "trust-anchors": { type: "string" },
        "transport-root": { type: "string", multiple: true },
        at: { type: "string" },
        profile: { type: "string", multiple: true },
        "profile-file": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return (err as Error).message;
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  const [file, ...extra] = positionals;
  if (file === undefined) return "a certificate file is required";
  if (extra.length > 0) return `one certificate file only (also got ${extra.join(" ")})`;
  let at: Date | undefined;
  if (values.at !== undefined) {
    at = new Date(values.at);
    if (!ISO_INSTANT.test(values.at) || Number.isNaN(at.getTime())) return `--at '${values.at}' is not an ISO 8601 instant with a zone (e.g. 2024-01-01T00:00:00Z)`;
  }
  return {
    file,
    anchorsFile: values["trust-anchors"],
    transportRoots: values["transport-root"] ?? DEFAULT_TRANSPORT_ROOTS,
    at,
    profiles: values.profile,
    profileFiles: values["profile-file"] ?? [],
  };
}

/**
 * `ofb-edge inspect CERT.pem`: what the edge makes of a certificate file at an instant — the identity fields,
 * x5t#S256, the chain as built with each certificate's role and where it came from, the policy verdict against
 * the given trust anchors and transport roots, and the exact header fields each profile would send. The fields
 * and the chain are shown for a refusal too, so an operator sees why a real certificate is refused.
 */
export async function runInspect(argv: string[], io: Io, now: () => Date = () => new Date()): Promise<number> {
  const options = parseOptions(argv);
  if (options === "help") {
    io.stdout(INSPECT_USAGE);
    return 0;
  }
  if (typeof options === "string") {
    io.stderr(`ofb-edge inspect: ${options}\n\n${INSPECT_USAGE}`);
    return 2;
  }
  let certs: Uint8Array[];
  try {
    const blocks = readFileSync(options.file, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new Error("no PEM certificate found");
    certs = blocks.map((b) => new Uint8Array(new X509Certificate(b).raw));
  } catch (err) {
    io.stderr(`ofb-edge inspect: ${options.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }
  let loaded: LoadedProfiles;
  let anchors: TrustAnchors;
  let transportRoots: ReadonlySet<string>;
  try {
    loaded = loadProfiles({ files: [...options.profileFiles] });
    anchors = readAnchors(options.anchorsFile);
    transportRoots = readTransportRoots(options.transportRoots, "(command line)", "--transport-root");
  } catch (err) {
    return reportConfigError(err, io);
  }
  const names = options.profiles ?? [...loaded.byName.keys()];
  const unknown = names.filter((n) => !loaded.byName.has(n));
  if (unknown.length > 0) {
    io.stderr(`ofb-edge inspect: no profile named ${unknown.join(", ")} (known: ${[...loaded.byName.keys()].join(", ")})`);
    return 2;
  }

  const at = options.at ?? now();
  const policy = createChainPolicy({ anchors, transportRoots, minRsaBits: 2048, requireIntermediate: true, now: () => at.getTime() });
  const verdict = policy(certs, verifyPath(certs, anchors));
  const identity = parseIdentity(certs[0]!, { allowOpenInsurance: false });
  const leaf = new X509Certificate(certs[0]!);
  const thumbprint = x5tS256(certs[0]!);

  io.stdout(`certificate: ${leaf.subject.replace(/\n/g, ", ")}`);
  io.stdout(`issuer:      ${leaf.issuer.replace(/\n/g, ", ")}`);
  io.stdout(`validity:    ${new Date(leaf.validFrom).toISOString()} .. ${new Date(leaf.validTo).toISOString()}`);
  io.stdout(`x5t#S256:    ${thumbprint}`);
  io.stdout(`judged at:   ${at.toISOString()}`);
  for (const line of certificateFields(certs[0]!)) io.stdout(`fields:      ${line}`);
  io.stdout(
    identity.ok
      ? `identity:    organisation ${identity.identity.organisationId}, software statement ${identity.identity.softwareStatementId}, CNPJ ${identity.identity.cnpj ?? "-"}`
      : `identity:    not an OFB participant identity: ${identity.code}: ${identity.detail}`,
  );
  const links = verdict.links;
  if (links !== undefined) {
    io.stdout("chain:       (as built: leaf first, then each issuer up to the anchor)");
    links.forEach((link, i) => io.stdout(`  ${i}  ${describeLink(link, i, links, anchors, transportRoots, at)}`));
  }
  if (anchors.roots.length === 0) io.stdout("             (no --trust-anchors given: path validation cannot succeed)");

  const refusal: Refusal | null = !verdict.ok
    ? { ...verdict, stage: "pki" }
    : !identity.ok
      ? { code: identity.code, stage: "identity", rule: "ofb-subject", certIndex: 0, detail: identity.detail }
      : validityRefusal(checkValidity(verdict, at.getTime()));
  if (refusal !== null) {
    io.stdout(`verdict:     rejected ${refusal.code} (${refusal.stage}/${refusal.rule}${refusal.certIndex === undefined ? "" : `, certificate ${refusal.certIndex}`}): ${refusal.detail}`);
    return 1;
  }
  if (!verdict.ok || !identity.ok) return 1;
  io.stdout("verdict:     accepted");
  const client = { thumbprint, identity: identity.identity, verdict };
  for (const name of names) {
    const out: string[] = [];
    try {
      loaded.byName.get(name)!.emit({ client, roles: null, token: undefined, interactionId: randomUUID() }, out);
    } catch (err) {
      io.stdout(`\nprofile ${name}: would refuse the request: ${(err as Error).message}`);
      continue;
    }
    io.stdout(`\nprofile ${name}:`);
    for (let i = 0; i < out.length; i += 2) io.stdout(`  ${out[i]}: ${terminalText(out[i + 1]!)}`);
  }
  return 0;
}

interface Refusal {
  readonly code: string;
  readonly stage: "pki" | "identity";
  readonly rule: string;
  readonly certIndex: number | undefined;
  readonly detail: string;
}

function validityRefusal(failure: ChainFailure | null): Refusal | null {
  return failure === null ? null : { ...failure, stage: "pki" };
}

function readAnchors(file: string | undefined): TrustAnchors {
  if (file === undefined) return loadTrustAnchors([]);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ConfigError("(command line)", [{ path: "--trust-anchors", message: `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}` }]);
  }
  try {
    return loadTrustAnchors([{ source: file, text }]);
  } catch (cause) {
    throw new ConfigError("(command line)", [{ path: "--trust-anchors", message: (cause as Error).message }]);
  }
}

/** "leaf 'CN' — sent — valid at T", "AC 'CN' — sent; in the trust-anchor files (allowed issuer) — …", "anchor 'CN' — … — transport root". */
function describeLink(link: ChainLink, i: number, links: readonly ChainLink[], anchors: TrustAnchors, transportRoots: ReadonlySet<string>, at: Date): string {
  const c = link.cert;
  const isAnchor = anchors.bySha256.has(c.sha256);
  const last = i === links.length - 1;
  const role = i === 0 ? "leaf" : isAnchor ? "anchor" : last && c.subjectKey === c.issuerKey ? "root (not a trust anchor)" : "AC";
  const origin = [link.sent ? (i === 0 ? "the certificate presented" : "sent by the client") : "not sent: from the trust-anchor files"];
  if (link.sent && link.inTrustFiles && i > 0) origin.push("also in the trust-anchor files");
  if (role === "AC") {
    if (anchors.issuers.length === 0) origin.push("allowed issuer (the trust-anchor files hold roots only)");
    else origin.push(link.inTrustFiles ? "allowed issuer (in the trust-anchor files)" : "NOT an allowed issuer (not in the trust-anchor files)");
  }
  if (isAnchor) origin.push(transportRoots.has(c.sha256) ? "transport root" : "NOT a transport root (policy.transportRoots)");
  const t = at.getTime();
  const validity =
    t < c.notBefore.getTime() ? `NOT valid before ${c.notBefore.toISOString()}` : t > c.notAfter.getTime() ? `EXPIRED at ${c.notAfter.toISOString()}` : `valid until ${c.notAfter.toISOString()}`;
  return `${role.padEnd(6)} '${c.label}' — ${origin.join("; ")} — ${validity} — SHA-256 ${c.sha256}`;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A field value (one Latin-1 character per octet on the wire) for a UTF-8 terminal: octets that form UTF-8
 * (raw DN bytes: `haproxy-oneline`, `rfc2253-utf8`) are printed as those bytes, so the line shows what the
 * backend reads; other octets ≥ 0x80 as `\xNN`.
 */
export function terminalText(value: string): string {
  const octets = Buffer.from(value, "latin1");
  try {
    return strictUtf8.decode(octets);
  } catch {
    return value.replace(/[\x80-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
}
