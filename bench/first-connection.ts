import "reflect-metadata";
import { createPrivateKey, randomUUID, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config/load.js";
import type { ConfigInput } from "../src/config/schema.js";
import { createLogger } from "../src/log/logger.js";
import { createMetrics } from "../src/metrics/registry.js";
import { parseCertInfo } from "../src/pki/certificate.js";
import { generateTestPki, loadTestCa, type TestPkiManifest } from "../src/pki/test-pki/index.js";
import { certificateFacts } from "../src/revocation/certificate-facts.js";
import { startEdge } from "../src/server.js";
import { randomSerials, signedCrl } from "./crl-der.js";
import { envNumber } from "./env.js";

/**
 * Revocation at start-up and on the first connection, with a CRL of ICP-Brasil's common size: ssl-ac's CRL lists
 * `BENCH_CRL_SERIALS` (default 100,000) 16-byte serials, about 5 MB of DER, served by a local plain-HTTP server
 * (optionally `BENCH_CRL_MBPS` to pace its body, default unpaced). The test PKI's certificates name that server
 * as their distribution points. Each figure is the median (min–max) of `BENCH_RUNS` (default 5) fresh edges.
 *
 * 1. First connection while its AC's CRL loads: an edge whose trust anchors hold the root alone learns ssl-ac's
 *    CRL location from the client's leaf; the time of that client's first HTTPS request (new TLS connection,
 *    401 CERT_REVOKED for the `revoked` client), against a second request on a new connection once the CRL is held.
 * 2. Start-up with the CRLs known at start: anchors root + ssl-ac (as `trust fetch` writes them), ssl-ac's CRL
 *    in `revocation.urls`: `startEdge` time with revocation on, against `revocation.mode: off`.
 * Run: `npm run build && node dist/bench/first-connection.js`.
 */

const SERIALS = Math.round(envNumber("BENCH_CRL_SERIALS", 100_000));
const RUNS = Math.round(envNumber("BENCH_RUNS", 5));
const MBPS = envNumber("BENCH_CRL_MBPS", 0);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "ofb-edge-bench-first-"));
  const bodies = new Map<string, Buffer>();
  const crlServer = createServer((req, res) => {
    const body = bodies.get(new URL(req.url ?? "/", "http://x").pathname);
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/pkix-crl", "content-length": body.length });
    if (MBPS <= 0) return void res.end(body);
    // Paced in 64 KiB slices, as a distant repository would deliver it.
    const slice = 64 * 1024;
    const everyMs = (slice * 8) / (MBPS * 1000);
    let at = 0;
    const next = () => {
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, (at += slice)));
      setTimeout(next, everyMs);
    };
    next();
  });
  await new Promise<void>((resolve) => crlServer.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(crlServer.address() as AddressInfo).port}/crl/`;
  const backend = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
  const upstream = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  try {
    const pki = await generateTestPki({ out: join(dir, "pki"), crlBaseUrl: base });
    const [root, sslAc] = await Promise.all([loadTestCa(pki.ca.root), loadTestCa(pki.ca.sslAc)]);
    const [rootInfo, sslAcInfo] = [parseCertInfo(root.der), parseCertInfo(sslAc.der)];
    const revokedSerial = certificateFacts(new X509Certificate(await readFile(pki.clients.revoked!.cert)).raw).serial;
    const now = Date.now();
    const big = signedCrl({ issuerDer: sslAcInfo.subjectDer, key: createPrivateKey(sslAc.keyPem), serials: randomSerials(SERIALS), extra: [revokedSerial], now, validMs: 86_400_000 });
    bodies.set("/crl/ssl-ac.crl", big);
    bodies.set("/crl/root.crl", signedCrl({ issuerDer: rootInfo.subjectDer, key: createPrivateKey(root.keyPem), now, validMs: 86_400_000 }));
    const withAcs = join(dir, "anchors-with-acs.pem");
    await writeFile(withAcs, `${root.pem.trimEnd()}\n${sslAc.pem.trimEnd()}\n`);
    console.log(`ssl-ac CRL: ${SERIALS + 1} serials, ${(big.length / 1e6).toFixed(2)} MB DER, served by ${MBPS > 0 ? `a local server paced at ${MBPS} Mbit/s` : "an unpaced local server"}; ${RUNS} runs each.\n`);

    const first: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const edge = await edgeWith(pki, upstream, pki.trustAnchors, { onStale: "hard-fail" });
      try {
        first.push(await timed(edge.port, pki, "revoked", 401));
        held.push(await timed(edge.port, pki, "revoked", 401));
      } finally {
        await edge.close();
      }
    }
    console.log(`first connection while ssl-ac's CRL loads (revoked client, 401): ${summary(first)} ms`);
    console.log(`next connection, CRL held:                                     ${summary(held)} ms\n`);

    const onMs: number[] = [];
    const offMs: number[] = [];
    const afterStart: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const on of [true, false]) {
        const t0 = performance.now();
        const revocation: ConfigInput["revocation"] = on ? { onStale: "hard-fail", urls: { [sslAcInfo.sha256]: [`${base}ssl-ac.crl`] } } : { mode: "off" };
        const edge = await edgeWith(pki, upstream, withAcs, revocation);
        (on ? onMs : offMs).push(performance.now() - t0);
        try {
          if (on) afterStart.push(await timed(edge.port, pki, "revoked", 401));
        } finally {
          await edge.close();
        }
      }
    }
    console.log(`start-up, revocation on (root + ssl-ac CRLs fetched before listening): ${summary(onMs)} ms`);
    console.log(`start-up, revocation off:                                               ${summary(offMs)} ms`);
    console.log(`first connection after that start-up (revoked client, 401):             ${summary(afterStart)} ms`);
  } finally {
    crlServer.closeAllConnections();
    await new Promise<void>((resolve) => crlServer.close(() => resolve()));
    await new Promise<void>((resolve) => backend.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  }
}

async function edgeWith(pki: TestPkiManifest, upstream: string, anchors: string, revocation: ConfigInput["revocation"]) {
  const config = parseConfig(
    {
      listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [anchors] } }],
      routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream }],
      // The bundle holds ssl-ac next to the root (as `trust fetch` writes it).
      policy: { requireIntermediate: false },
      revocation,
      log: { level: "silent" },
      workers: 1,
    },
    { file: "(bench)", baseDir: process.cwd() },
  );
  const edge = await startEdge(config, { logger: createLogger({ level: "silent" }), metrics: createMetrics(), clock: () => new Date(), configFile: "(bench)" });
  return { port: edge.listeners[0]!.port, close: () => edge.close() };
}

/** Milliseconds for one HTTPS request on a new TLS connection as `client`; throws on another status. */
async function timed(port: number, pki: TestPkiManifest, client: string, expected: number): Promise<number> {
  const c = pki.clients[client]!;
  const [cert, key, ca] = await Promise.all([readFile(c.chain), readFile(c.key), readFile(pki.trustAnchors)]);
  const t0 = performance.now();
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", servername: "localhost", port, path: "/open-banking/accounts/v2/accounts", headers: { "x-fapi-interaction-id": randomUUID() }, ca, cert, key, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
  if (status !== expected) throw new Error(`expected ${expected}, got ${status}`);
  return performance.now() - t0;
}

function summary(ms: readonly number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  return `${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} (${sorted[0]!.toFixed(0)}–${sorted[sorted.length - 1]!.toFixed(0)})`;
}

await main();
