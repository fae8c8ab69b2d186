import { createServer, type Server } from "node:http";
import type { DirectoryService } from "../directory/service.js";
import type { IdentityAssertionSigner } from "../profiles/assertion.js";

/**
 * The admin listener, plain HTTP on its own port, meant for the orchestrator only:
 * `/healthz` answers 200 while the process serves (through a shutdown's drain too); `/readyz` answers 200 when the
 * edge can take traffic and 503 with the reason when it cannot (no Directory snapshot, or one older than
 * `directory.maxStalenessMs`; shutdown begun, so that load balancers stop sending);
 * `/metrics` is the Prometheus exposition; `/.well-known/jwks.json` serves the identity assertion's public JWK Set (RFC 7517 §5) when the edge signs
 * assertions, and is 404 otherwise.
 */
export function createAdminServer(deps: {
  readonly directory: DirectoryService | null;
  readonly identityAssertion?: IdentityAssertionSigner | null;
  /** The Prometheus exposition (aggregated across workers in cluster mode). */
  readonly metrics?: () => Promise<string>;
  readonly metricsContentType?: string;
  /**
   * Further readiness conditions (shutdown, deny list Redis reachable, trust anchors loaded, revocation): null when met,
   * else the reason; or `{ reason, detail }` to report more about the condition either way.
   */
  readonly readiness?: () => Record<string, string | null | { readonly reason: string | null; readonly detail: Readonly<Record<string, unknown>> }>;
}): Server {
  return createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers, "content-length": Buffer.byteLength(text) });
      res.end(req.method === "HEAD" ? undefined : text);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, { error: "method not allowed" });
    if (path === "/healthz") return send(200, { status: "ok" });
    if (path === "/readyz") {
      const state = deps.directory?.state();
      const others = Object.entries(deps.readiness?.() ?? {}).map(([name, check]) => {
        const { reason, detail } = check !== null && typeof check === "object" ? check : { reason: check, detail: {} };
        return [name, reason, detail] as const;
      });
      const ready = (state?.ready ?? true) && others.every(([, reason]) => reason === null);
      return send(ready ? 200 : 503, {
        ready,
        ...(state && { directory: state.ready ? { version: state.version, ageSeconds: Math.round(state.ageMs / 1000) } : { reason: state.reason } }),
        ...Object.fromEntries(others.map(([name, reason, detail]) => [name, reason === null ? { ready: true, ...detail } : { reason, ...detail }])),
      });
    }
    if (path === "/metrics" && deps.metrics) {
      deps.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": deps.metricsContentType ?? "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        (err: Error) => send(503, { error: `metrics unavailable: ${err.message}` }),
      );
      return;
    }
    if (path === "/.well-known/jwks.json" && deps.identityAssertion)
      // RFC 7517 §8.5.1: the JWK Set media type; backends may cache it for five minutes.
      return send(200, deps.identityAssertion.jwks(), { "content-type": "application/jwk-set+json", "cache-control": "max-age=300" });
    return send(404, { error: "not found" });
  });
}
