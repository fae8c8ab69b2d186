import { randomUUID, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createPeerEvaluator, type PeerState } from "../connection/peer-state.js";
import { ConfigError } from "../errors.js";
import { loadTrustAnchors } from "../pki/anchors.js";
import { verifyPath } from "../pki/path.js";
import { checkValidity, createChainPolicy } from "../pki/policy.js";
import { loadProfiles, type LoadedProfiles } from "../profiles/load.js";
import { profileJsonSchema } from "../profiles/schema.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

const PROFILES_USAGE = `Usage: ofb-edge profiles check [FILE ...]   validate the built-in profiles and the given files
       ofb-edge profiles list                 the built-in profiles
       ofb-edge profiles schema               print the profile JSON Schema`;

const INSPECT_USAGE = "Usage: ofb-edge inspect CERT.pem [--trust-anchors ROOTS.pem] [--profile NAME ...] [--profile-file FILE ...]";

function reportConfigError(err: unknown, io: Io): number {
  if (!(err instanceof ConfigError)) throw err;
  io.stderr(`${err.file}: invalid`);
  for (const i of err.issues) io.stderr(`  ${i.path || "(root)"}: ${i.message}`);
  return 1;
}

/** `ofb-edge profiles …` (DESIGN §6): profile files are checked exactly as start-up checks them. */
export async function runProfiles(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "schema") {
    io.stdout(JSON.stringify(profileJsonSchema(), null, 2));
    return 0;
  }
  if (sub !== "check" && sub !== "list") {
    io.stderr(`ofb-edge profiles: ${sub === undefined ? "missing sub-command" : `unknown sub-command '${sub}'`}\n\n${PROFILES_USAGE}`);
    return 2;
  }
  let loaded: LoadedProfiles;
  try {
    loaded = loadProfiles({ files: sub === "check" ? rest : [] });
  } catch (err) {
    return reportConfigError(err, io);
  }
  for (const [name, file] of loaded.sources) io.stdout(`${sub === "check" ? "valid: " : ""}${name}  (${file})`);
  return 0;
}

/**
 * `ofb-edge inspect CERT.pem`: what the edge makes of a certificate file (leaf first, then the intermediates
 * the client would send) — thumbprint, OFB identity, the policy verdict against the given trust anchors, and
 * the exact header fields each profile would send for it.
 */
export async function runInspect(argv: string[], io: Io, now: () => Date = () => new Date()): Promise<number> {
  let parsed: { values: { "trust-anchors"?: string | undefined; profile?: string[] | undefined; "profile-file"?: string[] | undefined }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { "trust-anchors": { type: "string" }, profile: { type: "string", multiple: true }, "profile-file": { type: "string", multiple: true } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.stderr(`ofb-edge inspect: ${(err as Error).message}\n\n${INSPECT_USAGE}`);
    return 2;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) {
    io.stderr(INSPECT_USAGE);
    return 2;
  }
  let certs: Uint8Array[];
  try {
    const blocks = readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new Error("no PEM certificate found");
    certs = blocks.map((b) => new Uint8Array(new X509Certificate(b).raw));
  } catch (err) {
    io.stderr(`ofb-edge inspect: ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }
  let loaded: LoadedProfiles;
  try {
    loaded = loadProfiles({ files: parsed.values["profile-file"] ?? [] });
  } catch (err) {
    return reportConfigError(err, io);
  }
  const names = parsed.values.profile ?? [...loaded.byName.keys()];
  const unknown = names.filter((n) => !loaded.byName.has(n));
  if (unknown.length > 0) {
    io.stderr(`ofb-edge inspect: no profile named ${unknown.join(", ")} (known: ${[...loaded.byName.keys()].join(", ")})`);
    return 2;
  }

  const anchorsFile = parsed.values["trust-anchors"];
  const anchorsText = anchorsFile === undefined ? null : readFileSync(anchorsFile, "utf8");
  const anchors = loadTrustAnchors(anchorsText === null ? [] : [{ source: anchorsFile!, text: anchorsText }]);
  const evaluator = createPeerEvaluator({
    evaluateChain: createChainPolicy({ anchors, minRsaBits: 2048, requireIntermediate: true, now: () => now().getTime() }),
    allowOpenInsurance: false,
  });
  const leaf = new X509Certificate(certs[0]!);
  const state: PeerState = evaluator.evaluate({ leaf: certs[0]!, leafSha256: "", opensslError: verifyPath(certs, anchors), chain: () => certs });

  io.stdout(`certificate: ${leaf.subject.replace(/\n/g, ", ")}`);
  io.stdout(`issuer:      ${leaf.issuer.replace(/\n/g, ", ")}`);
  io.stdout(`validity:    ${new Date(leaf.validFrom).toISOString()} .. ${new Date(leaf.validTo).toISOString()}`);
  if (state.status === "rejected") {
    io.stdout(`x5t#S256:    ${state.thumbprint}`);
    io.stdout(`verdict:     rejected ${state.failure.code} (${state.failure.stage}/${state.failure.rule}${state.failure.certIndex === undefined ? "" : `, certificate ${state.failure.certIndex}`}): ${state.failure.detail}`);
    if (anchorsText === null) io.stdout("             (no --trust-anchors given: path validation cannot succeed)");
    return 1;
  }
  if (state.status !== "accepted") return 1;
  const { client } = state;
  const invalid = checkValidity(client.verdict, now().getTime());
  io.stdout(`x5t#S256:    ${client.thumbprint}`);
  io.stdout(`identity:    organisation ${client.identity.organisationId}, software statement ${client.identity.softwareStatementId}, CNPJ ${client.identity.cnpj ?? "-"}`);
  io.stdout(`verdict:     ${invalid ? `rejected ${invalid.code}: ${invalid.detail}` : "accepted"}`);
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
  return invalid ? 1 : 0;
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
