import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestPkiManifest } from "../pki/test-pki/index.js";
import type { AuthorizationServerStub } from "./authorization-server.js";

/** Lifetime of the demo access token (restart the stub for a new one). */
export const DEMO_TOKEN_SECONDS = 24 * 3600;

/** The test PKI client the README's requests present, and whose certificate the demo token is bound to. */
export const DEMO_CLIENT = "participant-a";

/**
 * Issues the demo access token — a PS256 JWT bound to participant-a's certificate (RFC 8705 `cnf.x5t#S256`), its
 * software statement as `sub` and `client_id`, valid {@link DEMO_TOKEN_SECONDS} — and writes it to
 * `<tokensDir>/participant-a.jwt` (mode 0600), where the README's commands read it. TEST ONLY.
 */
export async function writeDemoToken(o: { readonly stub: AuthorizationServerStub; readonly pki: TestPkiManifest; readonly tokensDir: string; readonly now: Date }): Promise<{ token: string; file: string }> {
  const client = o.pki.clients[DEMO_CLIENT];
  if (!client) throw new Error(`the test PKI has no client '${DEMO_CLIENT}'`);
  const id = client.softwareStatementId ?? DEMO_CLIENT;
  const token = await o.stub.issueJwt({
    thumbprint: client.thumbprint,
    claims: { sub: id, client_id: id, scope: "openid accounts consents" },
    lifetimeSeconds: DEMO_TOKEN_SECONDS,
    now: o.now,
  });
  const file = join(o.tokensDir, `${DEMO_CLIENT}.jwt`);
  mkdirSync(o.tokensDir, { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}
