import { connect, type ConnectionOptions } from "node:tls";
import type { ScenarioContext } from "../../src/conformance/context.js";

// Shared by the TLS scenarios (conformance/scenarios/tls).

const TLS12 = { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" } as const;

/**
 * A listener that requires a client certificate also refuses a certificate-less handshake with an allowed
 * suite: present participant-a's when we have it, otherwise skip unless an allowed suite completes without one,
 * so that a refusal can only be the suite's.
 */
async function tls12Client(t: ScenarioContext): Promise<string | null> {
  const as = t.has("client") ? "participant-a" : null;
  if (as === null && !(await t.handshake({ ...TLS12, ciphers: "ECDHE-RSA-AES128-GCM-SHA256" })).ok) {
    t.skipScenario("the listener refuses TLS 1.2 handshakes without a client certificate, so a suite's refusal cannot be observed (give --client-cert)");
  }
  return as;
}

/** Each TLS 1.2 suite offered alone is refused with a handshake_failure alert or a reset (OIDF DisallowInsecureCipher's pass rule). */
export async function expectEachSuiteRefused(t: ScenarioContext, suites: readonly string[], o: { readonly seclevel0?: boolean } = {}): Promise<void> {
  const as = await tls12Client(t);
  for (const suite of suites) {
    // Security level 0 where asked: the client itself must not be what refuses a weak suite.
    const h = await t.handshake({ as, ...TLS12, ciphers: o.seclevel0 ? `${suite}@SECLEVEL=0` : suite });
    t.check(!h.ok && (h.alert === "handshake failure" || h.error === "ECONNRESET"), `${suite} offered alone is refused (handshake_failure alert or reset)`, h.ok ? `accepted: ${h.protocol} ${h.cipher}` : `${h.error} (alert: ${h.alert})`);
  }
}

/** A TLS 1.2 handshake offering only `suite` completes with exactly that suite. */
export async function expectSuiteNegotiated(t: ScenarioContext, suite: string): Promise<void> {
  // A listener that requires a client certificate refuses a certificate-less TLS 1.2 handshake after the ServerHello.
  const as = t.has("client") ? "participant-a" : null;
  const h = await t.handshake({ as, ...TLS12, ciphers: suite });
  if (!h.ok) return t.fail(`a TLS 1.2 handshake offering only ${suite} completes`, `${h.error}${as ? "" : " (no client certificate presented: give --client-cert if the listener requires one)"}`);
  t.check(true, `a TLS 1.2 handshake offering only ${suite} completes`);
  t.equal(h.protocol, "TLSv1.2", "the negotiated protocol");
  t.equal(h.cipher, suite, "the negotiated cipher suite");
}

/**
 * A certificate-less handshake that records the ServerHello's version and suite even when the server then
 * refuses the missing certificate (`keylog` fires once the client has derived keys from the ServerHello;
 * `getCipher()` still names the suite after the error), and how the handshake ended. The OIDF probes stop
 * at the ServerHello, so that is their verdict.
 */
export function serverHello(t: ScenarioContext, options: ConnectionOptions): Promise<{ protocol: string; cipher: string; completed: boolean; ending: string } | { error: string }> {
  const { target } = t.env;
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port, servername: target.servername, rejectUnauthorized: false, ...options });
    let keys = false;
    const seen = (completed: boolean, ending: string) => ({ protocol: socket.getProtocol() ?? "", cipher: socket.getCipher().name, completed, ending });
    socket.on("keylog", () => (keys = true));
    socket.setTimeout(10_000, () => socket.destroy(Object.assign(new Error("handshake timed out"), { code: "ETIMEDOUT" })));
    socket.once("secureConnect", () => {
      resolve(seen(true, "handshake completed"));
      socket.destroy();
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      resolve(keys ? seen(false, `refused after the ServerHello: ${err.code ?? err.message}`) : { error: err.code ?? err.message });
      socket.destroy();
    });
  });
}
