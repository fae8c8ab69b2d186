import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { request, type RequestOptions } from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";

export interface TestResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  json<T = unknown>(): T;
}

export interface TestRequest {
  readonly pki: TestPkiManifest;
  readonly port: number;
  readonly credentials?: { cert: Buffer; key: Buffer } | undefined;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  /** Sets a fresh valid x-fapi-interaction-id unless false or given in headers. */
  readonly interactionId?: boolean;
  readonly body?: Buffer | string;
  readonly tls?: Partial<RequestOptions>;
}

/** One HTTPS request over a new TLS connection (real handshake, real certificate). */
export function httpsRequest(r: TestRequest): Promise<TestResponse> {
  const headers: Record<string, string | string[]> = { ...(r.interactionId === false ? {} : { "x-fapi-interaction-id": randomUUID() }), ...r.headers };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        servername: "localhost",
        port: r.port,
        path: r.path ?? "/open-banking/accounts/v2/accounts",
        method: r.method ?? "GET",
        headers,
        ca: readFileSync(r.pki.trustAnchors),
        agent: false,
        ...(r.credentials ?? {}),
        ...r.tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body.toString("utf8")) as T });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(r.body);
  });
}
