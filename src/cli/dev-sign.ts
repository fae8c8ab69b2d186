import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { EMBEDDED_PUBLIC_BASE_URL } from "../config/embedded.js";
import { loadTestPki, messageSigner, testMessageSigner, type TestMessageSigner } from "../pki/test-pki/index.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

/** The payment consent the README's signed request carries when `--data` is not given (payments 4.0.0 shape). */
const SAMPLE_CONSENT = {
  data: {
    loggedUser: { document: { identification: "11111111111", rel: "CPF" } },
    creditor: { personType: "PESSOA_NATURAL", cpfCnpj: "22222222222", name: "Marco Antonio de Brito" },
    payment: { type: "PIX", date: "2026-01-01", currency: "BRL", amount: "100.00" },
  },
};

export const SIGN_REQUEST_USAGE = `Usage: ofb-edge dev sign-request [--path P | --aud URL] [--data JSON] [key options]   (development only)

Prints a signed payment message: a compact JWS (PS256, typ JWT) of --data with the claims a participant adds —
iss (its organisation id), aud, iat (now), jti (a fresh UUID) — to send with Content-Type: application/jwt.

  --path P          the endpoint called; aud is --base followed by P (default /open-banking/payments/v4/consents)
  --base URL        the bank's published base URL (default ${EMBEDDED_PUBLIC_BASE_URL}, the embedded default's)
  --aud URL         the whole aud instead of --base and --path
  --data JSON       the message (a JSON object; default a sample payment consent)
Key options (default: participant-a's signing key of the test PKI in .ofb-edge/pki):
  --pki DIR         the test PKI ('ofb-edge pki init'), with --key NAME: one of its signing keys
                    (participant-a, participant-a-inactive, participant-b, bank)
  --key-file PEM --kid KID --organisation-id ID
                    a PKCS#8 PEM key of your own, the kid the Directory publishes it under, and your organisation id`;

const OPTIONS = {
  path: { type: "string" },
  base: { type: "string" },
  aud: { type: "string" },
  data: { type: "string" },
  pki: { type: "string" },
  key: { type: "string" },
  "key-file": { type: "string" },
  kid: { type: "string" },
  "organisation-id": { type: "string" },
} as const;

/**
 * `ofb-edge dev sign-request`: a participant's signed request message, for trying a route with message signing by
 * hand (the README's `curl`). Exit 0 with the JWS on stdout; 2 on a usage error; 1 when the key cannot be read.
 */
export async function runSignRequest(argv: string[], io: Io): Promise<number> {
  let values: { [K in keyof typeof OPTIONS]?: string | undefined };
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  if (values.aud !== undefined && (values.path !== undefined || values.base !== undefined)) return usage(io, "--aud is the whole audience: give it, or --base and --path, not both");
  const aud = values.aud ?? `${(values.base ?? EMBEDDED_PUBLIC_BASE_URL).replace(/\/+$/, "")}${values.path ?? "/open-banking/payments/v4/consents"}`;
  if (!URL.canParse(aud)) return usage(io, `the audience '${aud.slice(0, 120)}' is not a URL`);
  let payload: Record<string, unknown> = SAMPLE_CONSENT;
  if (values.data !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(values.data);
    } catch {
      return usage(io, "--data must be JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return usage(io, "--data must be a JSON object (a JWT claims set)");
    payload = parsed as Record<string, unknown>;
  }
  const own = [values["key-file"], values.kid, values["organisation-id"]];
  if (own.some((v) => v !== undefined) && own.some((v) => v === undefined)) return usage(io, "--key-file, --kid and --organisation-id go together");
  if (own[0] !== undefined && (values.pki !== undefined || values.key !== undefined)) return usage(io, "--key-file replaces --pki and --key");
  let signer: TestMessageSigner;
  try {
    signer = own[0] !== undefined ? await messageSigner({ keyPem: await readFile(own[0], "utf8"), kid: own[1]!, organisationId: own[2]! }) : await testMessageSigner(await loadTestPki(resolve(values.pki ?? ".ofb-edge/pki")), values.key ?? "participant-a");
  } catch (err) {
    io.stderr(`ofb-edge dev sign-request: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  io.stdout(await signer.sign({ aud, payload }));
  return 0;
}

function usage(io: Io, message: string): number {
  io.stderr(`ofb-edge dev sign-request: ${message}\n\n${SIGN_REQUEST_USAGE}`);
  return 2;
}
