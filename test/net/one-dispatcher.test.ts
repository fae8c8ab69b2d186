import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startLocalStack, type LocalStack } from "../../src/conformance/local.js";
import { httpsRequest } from "../helpers/client.js";

/** undici's process-global dispatcher, replaced for the duration of a test: it counts and refuses every request. */
class RefusingDispatcher extends Dispatcher {
  calls = 0;
  override dispatch(): boolean {
    this.calls += 1;
    throw new Error("the process-global dispatcher was used");
  }
  override async close(): Promise<void> {}
  override async destroy(): Promise<void> {}
}

const SRC = join(import.meta.dirname, "../../src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

describe("one outbound HTTP client (src/net)", () => {
  it("no module outside src/net imports undici's request API, and none calls the global fetch", () => {
    const offenders: string[] = [];
    for (const file of sources(SRC)) {
      const path = relative(SRC, file);
      const text = readFileSync(file, "utf8");
      // Value imports from undici: only src/net builds dispatchers and requests; the reverse proxy owns its upstream pools.
      for (const m of text.matchAll(/^import\s+(?!type\b)\{([^}]*)\}\s+from\s+"undici";/gm)) {
        const names = m[1]!.split(",").map((n) => n.trim()).filter((n) => n && !n.startsWith("type "));
        const bad = path.startsWith("net/") ? [] : names.filter((n) => !(path === "proxy/upstream.ts" && n === "Pool"));
        if (bad.length > 0) offenders.push(`${path}: imports ${bad.join(", ")} from undici`);
      }
      if (/(^|[^.\w])fetch\(/m.test(text.replace(/\/\/.*$/gm, ""))) offenders.push(`${path}: calls the global fetch`);
    }
    expect(offenders).toEqual([]);
  });

  describe("with undici's global dispatcher refusing every request", () => {
    const refusing = new RefusingDispatcher();
    let previous: Dispatcher;
    let stack: LocalStack;

    beforeAll(async () => {
      previous = getGlobalDispatcher();
      setGlobalDispatcher(refusing);
      // The whole pipeline: Directory participants and keystore, authorization server discovery/JWKS/introspection, CRLs.
      stack = await startLocalStack({ pkiDir: inject("pkiDir"), redis: "none" });
    }, 60_000);
    afterAll(async () => {
      await stack?.close();
      setGlobalDispatcher(previous);
    });

    it("every stage still reaches its servers, and the global dispatcher saw no request", async () => {
      const env = stack.environment;
      const client = (name: string) => {
        const c = env.credentials(name)!;
        return { cert: c.chain, key: c.key };
      };
      const port = env.target.port;
      const jwt = await env.boundToken!("participant-a");
      const opaque = await env.opaqueToken!({ active: true, cnf: { "x5t#S256": env.credentials("participant-a")!.thumbprint }, client_id: "x", scope: "accounts" });
      const ok = await httpsRequest({ pki: stack.pki, port, credentials: client("participant-a"), headers: { authorization: `Bearer ${jwt}` } });
      const introspected = await httpsRequest({ pki: stack.pki, port, credentials: client("participant-a"), headers: { authorization: `Bearer ${opaque}` } });
      const revoked = await httpsRequest({ pki: stack.pki, port, credentials: client("revoked"), headers: { authorization: `Bearer ${await env.boundToken!("revoked")}` } });
      expect([ok.status, introspected.status]).toEqual([200, 200]);
      expect(revoked.status).toBe(401);
      expect(revoked.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("CERT_REVOKED");
      expect(refusing.calls).toBe(0);
    });
  });
});
