import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey, randomBytes, webcrypto, type KeyObject } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createLogger } from "../src/log/logger.js";
import { loadTrustAnchors } from "../src/pki/anchors.js";
import { parseCertInfo, type CertInfo } from "../src/pki/certificate.js";
import { revocationSchema } from "../src/revocation/config.js";
import { parseCrl, type ParsedCrl } from "../src/revocation/crl.js";
import { createRevocationService } from "../src/revocation/service.js";
import { createOutboundDispatcher } from "../src/net/dispatcher.js";
import { serialHash } from "../src/revocation/serial-index.js";
import { publicKeyOf, verifyCrl } from "../src/revocation/signature.js";
import { createMemoryRevocationStore } from "../src/revocation/store.js";
import { randomSerials, signedCrl } from "./crl-der.js";
import { envNumber } from "./env.js";

/**
 * Revocation by CRL at ICP-Brasil's large end (an AC's CRL runs "de poucos kilobytes a dezenas de megabytes",
 * sesgo-ti/icpbrasil-truststore/docs/verificar-revogacao.md): a CRL of
 * `BENCH_CRL_SERIALS` (default 1,000,000) entries, each a 16-byte serial, a UTCTime and a reasonCode, written
 * as DER directly by bench/crl-der.ts (X509CrlGenerator builds an object tree per entry) and signed sha256WithRSAEncryption.
 *
 * Reports: parse + index time (median of `BENCH_CRL_RUNS`, default 3), signature verification time, the heap
 * and buffer memory one loaded CRL holds, and per-certificate lookup cost — the raw index and `check()` on a
 * [leaf, AC-anchor] chain, revoked and not. For comparison, @peculiar/x509's `X509Crl` on a smaller CRL
 * (`BENCH_X509CRL_SERIALS`, default 20,000): asn1js refuses it under its default limits, and with them raised
 * it decodes every entry into objects. Run: `npm run bench:revocation`.
 */

const SERIALS = Math.round(envNumber("BENCH_CRL_SERIALS", 1_000_000));
const RUNS = Math.round(envNumber("BENCH_CRL_RUNS", 3));
const X509CRL_SERIALS = Math.round(envNumber("BENCH_X509CRL_SERIALS", 20_000));
const LOOKUPS = 2_000_000;

// The memory figures need a collection before each reading.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** A CRL of `count` random 16-byte serials by `issuer`, DER, and the serials (entry i is bytes [16i, 16i + 16)). */
function bigCrl(issuer: CertInfo, key: KeyObject, count: number, now: number): { der: Buffer; serials: Buffer } {
  const serials = randomSerials(count);
  return { der: signedCrl({ issuerDer: issuer.subjectDer, key, serials, now }), serials };
}

/** A self-signed AC (the anchor of the check() chains) and a way to issue leaves with a chosen serial. */
async function benchIssuer() {
  x509.cryptoProvider.set(webcrypto);
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const now = new Date();
  const ac = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=AC BENCH CRL, O=ICP-Brasil BENCH",
    notBefore: new Date(now.getTime() - 86_400_000),
    notAfter: new Date(now.getTime() + 86_400_000 * 365),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const leaf = async (serialNumber: string) =>
    parseCertInfo(
      new Uint8Array(
        (
          await x509.X509CertificateGenerator.create({
            serialNumber,
            subject: `CN=leaf ${serialNumber.slice(0, 8)}`,
            issuer: ac.subject,
            notBefore: new Date(now.getTime() - 86_400_000),
            notAfter: new Date(now.getTime() + 86_400_000),
            publicKey: keys.publicKey,
            signingKey: keys.privateKey,
            signingAlgorithm: alg,
          })
        ).rawData,
      ),
    );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  return {
    ac: parseCertInfo(new Uint8Array(ac.rawData)),
    acPem: ac.toString("pem"),
    key: createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }),
    leaf,
  };
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = process.hrtime.bigint();
  const value = fn();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

/** Wall time of an async step, and the longest the event loop was blocked meanwhile. */
async function timedAsync<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; maxStallMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const start = process.hrtime.bigint();
  const value = await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  delay.disable();
  return { value, ms, maxStallMs: delay.max / 1e6 };
}

function nsPerOp(n: number, fn: (i: number) => unknown): number {
  let sink = 0;
  for (let i = 0; i < Math.min(n, 100_000); i++) sink += fn(i) ? 1 : 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += fn(i) ? 1 : 0;
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (sink < 0) console.log(sink);
  return ns;
}

async function memory(): Promise<{ heap: number; buffers: number }> {
  // Array buffers' memory is released after their wrappers are collected: collect, let it settle, again.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const signedMb = (bytes: number) => `${bytes < 0 ? "" : "+"}${mb(bytes)}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const now = Date.now();
  const pki = await benchIssuer();
  const built = timed(() => bigCrl(pki.ac, pki.key, SERIALS, now));
  const { der, serials } = built.value;
  // The revoked leaf's serial sits in the middle of the CRL; the other one's (7f…) is in no CRL.
  const middle = 16 * Math.floor(SERIALS / 2);
  const [revokedLeaf, goodLeaf] = await Promise.all([pki.leaf(serials.subarray(middle, middle + 16).toString("hex")), pki.leaf("7f".repeat(16))]);
  console.log(`CRL: ${SERIALS.toLocaleString("en")} serials, ${mb(der.length)} MB DER (built in ${built.ms.toFixed(0)} ms)`);

  // Warm up (module initialisation, JIT) on a small CRL so that the memory delta is the index's alone.
  await parseCrl(bigCrl(pki.ac, pki.key, 1_000, now).der);
  const before = await memory();
  let crl: ParsedCrl | undefined;
  const runs: { ms: number; maxStallMs: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    crl = undefined;
    gc();
    const run = await timedAsync(() => parseCrl(der));
    crl = run.value;
    runs.push({ ms: run.ms, maxStallMs: run.maxStallMs });
  }
  const after = await memory();
  const parsed = crl!;
  const parseMs = runs.map((r) => r.ms);
  console.log(`parse + index: median ${median(parseMs).toFixed(0)} ms over ${RUNS} runs (${parseMs.map((m) => m.toFixed(0)).join(", ")}); ${parsed.revoked.size.toLocaleString("en")} serials indexed; longest event-loop stall ${Math.max(...runs.map((r) => r.maxStallMs)).toFixed(0)} ms`);
  const verify = await timedAsync(() => verifyCrl(parsed, pki.ac, publicKeyOf(pki.ac)));
  console.log(`signature verification (sha256WithRSAEncryption over the whole tbsCertList, off the event loop): ${verify.ms.toFixed(0)} ms, longest stall ${verify.maxStallMs.toFixed(0)} ms`);
  console.log(`memory: serial index ${signedMb(after.heap - before.heap + after.buffers - before.buffers)} MB (heap ${signedMb(after.heap - before.heap)}, typed arrays ${signedMb(after.buffers - before.buffers)}), plus the DER itself (${mb(der.length)} MB), kept to read a hit's date and reason`);

  const probe = (hex: string) => ({ bytes: Buffer.from(hex, "hex"), hash: serialHash(Buffer.from(hex, "hex")) });
  const hits = Array.from({ length: 1024 }, (_, i) => probe(serials.subarray(i * 16, i * 16 + 16).toString("hex")));
  const misses = Array.from({ length: 1024 }, () => probe(`7e${randomBytes(15).toString("hex")}`));
  const find = (p: { bytes: Uint8Array; hash: number }) => parsed.revoked.find(p.bytes, p.hash);
  console.log(`index lookup (hash precomputed, as check() has it): hit ${nsPerOp(LOOKUPS, (i) => find(hits[i & 1023]!)).toFixed(1)} ns/op, miss ${nsPerOp(LOOKUPS, (i) => find(misses[i & 1023]!)).toFixed(1)} ns/op`);

  const store = createMemoryRevocationStore();
  await store.put(pki.ac.sha256, { der, url: "http://bench.invalid/ac.crl", fetchedAt: now, etag: null, lastModified: null });
  const anchors = loadTrustAnchors([{ source: "bench", text: pki.acPem }]);
  const logger = createLogger({ level: "silent" }, { write: () => undefined });
  const service = createRevocationService(revocationSchema.parse({ onStale: "hard-fail" }), { anchors, issuers: [], store, logger, now: () => now, dispatcher: createOutboundDispatcher() });
  const good = [goodLeaf, anchors.certs[0]!];
  const revoked = [revokedLeaf, anchors.certs[0]!];
  service.check(good, now);
  const loaded = await timedAsync(() => service.refreshNow());
  if (!service.check(good, now).ok || service.check(revoked, now).ok) throw new Error(`unexpected verdicts: ${JSON.stringify([service.check(good, now), service.check(revoked, now)])}`);
  console.log(`check() on [leaf, AC] with the CRL loaded: not revoked ${nsPerOp(LOOKUPS, () => service.check(good, now).ok).toFixed(1)} ns/op, revoked ${nsPerOp(LOOKUPS, () => service.check(revoked, now).ok).toFixed(1)} ns/op (the entry's date and reason decoded once)`);
  console.log(`  (service load of the stored CRL, parse + verify: ${loaded.ms.toFixed(0)} ms)`);
  await service.close();

  const small = bigCrl(pki.ac, pki.key, X509CRL_SERIALS, now).der;
  const ours = await timedAsync(() => parseCrl(small));
  let refused = "accepted";
  try {
    void new x509.X509Crl(small);
  } catch (err) {
    refused = `refused (${(err as Error).message.slice(0, 80)})`;
  }
  const theirs = timed(() => new x509.X509Crl(small, { berOptions: { maxNodes: 20 * X509CRL_SERIALS + 100 } }).entries.length);
  console.log(`@peculiar/x509 X509Crl on ${X509CRL_SERIALS.toLocaleString("en")} serials: default limits ${refused}; limits raised ${theirs.ms.toFixed(0)} ms vs parseCrl ${ours.ms.toFixed(1)} ms`);
}

await main();
