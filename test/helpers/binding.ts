import type { ConfigInput } from "../../src/config/schema.js";
import { startAuthorizationServerStub, type AuthorizationServerStubOptions } from "../../src/dev/authorization-server.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "./backend.js";
import { httpsRequest, type TestResponse } from "./client.js";
import { clientCredentials, startTestEdge } from "./edge.js";

export const ACCOUNTS = "/open-banking/accounts/v2/accounts";

export interface ErrorBody {
  errors: { code: string; title: string; detail: string }[];
}

/**
 * A real backend, a real authorization-server stub and a real edge whose routes check tokens:
 * `/open-banking/` enforce (the default on mTLS routes), `/report/` report, `/scoped/` enforce with scope
 * `payments`, `/optional-bound/` enforce with optional mTLS, `/.well-known/` off (optional mTLS). The clock is injectable through `at`.
 */
export async function startBindingStack(o: {
  pki: TestPkiManifest;
  authorizationServer?: (issuer: string) => Partial<NonNullable<ConfigInput["authorizationServer"]>>;
  stub?: AuthorizationServerStubOptions;
}) {
  const backend = await startRecordingBackend();
  const stub = await startAuthorizationServerStub(o.stub);
  const clock = { now: Date.now() };
  const edge = await startTestEdge({
    pki: o.pki,
    upstream: backend.url,
    clock: () => new Date(clock.now),
    routes: [
      { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url },
      { name: "report", pathPrefix: "/report/", upstream: backend.url, binding: "report" },
      { name: "scoped", pathPrefix: "/scoped/", upstream: backend.url, scopes: ["payments"] },
      { name: "optional-bound", pathPrefix: "/optional-bound/", upstream: backend.url, mtls: "optional", binding: "enforce" },
      { name: "well-known", pathPrefix: "/.well-known/", upstream: backend.url, mtls: "optional", interactionId: "generate" },
    ],
    authorizationServer: { issuer: stub.issuer, clockSkewSeconds: 0, ...o.authorizationServer?.(stub.issuer) },
  });
  const thumbprint = (client: string) => o.pki.clients[client]!.thumbprint;
  return {
    backend,
    stub,
    edge,
    clock,
    thumbprint,
    /** One request with `client`'s certificate and, when given, `Authorization: Bearer <token>`. */
    call(client: string | null, token: string | null, options: { path?: string; headers?: Record<string, string | string[]>; method?: string; body?: string } = {}): Promise<TestResponse> {
      return httpsRequest({
        pki: o.pki,
        port: edge.port,
        credentials: client === null ? undefined : clientCredentials(o.pki, client),
        path: options.path ?? ACCOUNTS,
        method: options.method ?? "GET",
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...options.headers },
        ...(options.body !== undefined ? { body: options.body } : {}),
      });
    },
    async close() {
      await edge.close();
      await stub.close();
      await backend.close();
    },
  };
}

export type BindingStack = Awaited<ReturnType<typeof startBindingStack>>;
