import { X509Certificate } from "node:crypto";
import { Counter, Gauge } from "prom-client";
import type { TokenVerifier } from "../binding/verifier.js";
import type { VerifiedClient } from "../connection/peer-state.js";
import type { DenyList } from "../deny/deny-list.js";
import type { DirectoryService } from "../directory/service.js";
import type { Logger } from "../log/logger.js";
import type { CertInfo } from "../pki/certificate.js";
import type { RevocationService } from "../revocation/service.js";
import type { EdgeMetrics } from "./registry.js";

const DAY_MS = 86_400_000;
/** Organisations labelled on the client-certificate expiry gauge: a bound on its cardinality. */
const MAX_CLIENT_ORGANISATIONS = 1_000;
/** Thumbprints remembered for the "first seen" signal. */
const MAX_THUMBPRINTS = 100_000;
const COVERAGE_VALUE = { covered: 1, uncovered: 0, pending: -1 } as const;

export interface OperationalSources {
  readonly directory: DirectoryService | null;
  readonly tokens: TokenVerifier | null;
  readonly revocation?: RevocationService;
  /** The instant deny list, when configured (its size). */
  readonly deny?: DenyList | null;
  /** Every listener's server certificate (PEM chain) and trust anchors. */
  readonly listeners: readonly { readonly name: string; readonly certPem: string; readonly anchors: readonly CertInfo[] }[];
  readonly expiryWarningDays: number;
  readonly now: () => number;
  readonly logger: Logger;
}

/** What the pipeline tells the operational metrics about each verified client it sees. */
export interface ClientWatch {
  observe(client: VerifiedClient): void;
}

/**
 * Metrics read at scrape time (Directory snapshot age and size, token cache hits and misses, deny-list size, days to
 * expiry of the server certificates, trust anchors and ACs, and of client certificates seen, labelled by
 * organisation with bounded cardinality), the "first seen" signal for thumbprints and organisations, and log
 * warnings at `expiryWarningDays` before an expiry. Each declares how the cluster primary combines the workers'
 * values (see registry.ts): every worker holds its own copy of shared state (snapshot, CRLs, deny list), so a sum
 * would multiply it by the number of workers.
 */
export function registerOperationalMetrics(metrics: EdgeMetrics, s: OperationalSources): ClientWatch {
  const registers = [metrics.registry];
  const days = (at: number) => Math.floor((at - s.now()) / DAY_MS);
  const warned = new Set<string>();
  const warn = (what: string, name: string, notAfter: number) => {
    const left = days(notAfter);
    if (left > s.expiryWarningDays || warned.has(`${what}:${name}`)) return;
    warned.add(`${what}:${name}`);
    s.logger.warn({ kind: "expiry", what, name, notAfter: new Date(notAfter).toISOString(), daysLeft: left }, `${what} expires in ${left} days`);
  };

  new Gauge({
    name: "ofb_edge_directory_snapshot_age_seconds",
    help: "Age of the Directory snapshot in service (since the Directory last confirmed it); across workers the oldest.",
    registers,
    aggregator: "max",
    collect() {
      const meta = s.directory?.store.current();
      if (meta) this.set((s.now() - meta.fetchedAt) / 1000);
    },
  });
  new Gauge({
    name: "ofb_edge_directory_snapshot_organisations",
    help: "Organisations in the Directory snapshot in service (the same snapshot in every worker: the largest count).",
    registers,
    aggregator: "max",
    collect() {
      const meta = s.directory?.store.current();
      if (meta) this.set(meta.organisations);
    },
  });
  new Counter({
    name: "ofb_edge_token_cache_lookups_total",
    help: "Token verifications answered from the cache (hit) or not (miss), since start; hit ratio = hit / (hit + miss).",
    labelNames: ["result"],
    registers,
    aggregator: "sum",
    collect() {
      if (!s.tokens) return;
      this.reset();
      this.inc({ result: "hit" }, s.tokens.stats.hits);
      this.inc({ result: "miss" }, s.tokens.stats.misses);
    },
  });
  new Gauge({
    name: "ofb_edge_deny_list_entries",
    help: "Entries of the instant deny list this edge applies (expired ones until removed); absent without denyList. The same list in every worker: the largest count.",
    registers,
    aggregator: "max",
    collect() {
      if (s.deny) this.set(s.deny.size());
    },
  });

  // Per-AC values are the same in every worker, or differ only while one has not seen the AC yet: the cluster
  // aggregate takes the largest (a sum would multiply ages by the number of workers).
  new Gauge({
    name: "ofb_edge_crl_age_seconds",
    help: "Age of each AC's CRL in service (now − thisUpdate), by AC and status (fresh, stale-grace, stale, missing).",
    labelNames: ["ac", "status"],
    registers,
    aggregator: "max",
    collect() {
      this.reset();
      for (const a of s.revocation?.state().acs ?? []) this.set({ ac: a.ac, status: a.status }, a.ageMs === undefined ? -1 : a.ageMs / 1000);
    },
  });
  new Gauge({
    name: "ofb_edge_crl_revoked_serials",
    help: "Revoked serials in each AC's CRL in service.",
    labelNames: ["ac"],
    registers,
    aggregator: "max",
    collect() {
      this.reset();
      for (const a of s.revocation?.state().acs ?? []) if (a.serials !== undefined) this.set({ ac: a.ac }, a.serials);
    },
  });
  new Gauge({
    name: "ofb_edge_revocation_ac_covered",
    help: "Whether a CRL source covers each AC the edge knows (trust-anchor files, client chains): 1 covered (distribution point, revocation.urls or a local CRL file), 0 uncovered (seen in a client chain, no source: refused in hard-fail, accepted unchecked in soft-fail), -1 pending (known from the trust-anchor files, its distribution point not learned yet).",
    labelNames: ["ac", "sha256"],
    registers,
    aggregator: "max",
    collect() {
      this.reset();
      for (const a of s.revocation?.state().acs ?? []) this.set({ ac: a.ac, sha256: a.sha256 }, COVERAGE_VALUE[a.coverage]);
    },
  });
  new Gauge({
    name: "ofb_edge_revocation_ac_crl_status",
    help: "Each AC's CRL status, 1 on its current status: fresh, stale-grace, stale, missing, or loading (being obtained for the first time); across workers, 1 on every status some worker is in.",
    labelNames: ["ac", "sha256", "status"],
    registers,
    aggregator: "max",
    collect() {
      this.reset();
      for (const a of s.revocation?.state().acs ?? []) this.set({ ac: a.ac, sha256: a.sha256, status: a.loading ? "loading" : a.status }, 1);
    },
  });
  new Counter({
    name: "ofb_edge_revocation_unchecked_total",
    help: "Certificates accepted without a revocation check (soft-fail: their AC has no CRL source, or its CRL could not be obtained), by AC.",
    labelNames: ["ac", "sha256"],
    registers,
    aggregator: "sum",
    collect() {
      this.reset();
      for (const a of s.revocation?.state().acs ?? []) if (a.unchecked > 0) this.inc({ ac: a.ac, sha256: a.sha256 }, a.unchecked);
    },
  });

  new Counter({
    name: "ofb_edge_ocsp_requests_total",
    help: "OCSP exchanges since start, by outcome (good, revoked, unknown, timeout, error); absent while revocation.ocsp is off.",
    labelNames: ["outcome"],
    registers,
    aggregator: "sum",
    collect() {
      const ocsp = s.revocation?.state().ocsp;
      if (!ocsp) return;
      this.reset();
      for (const [outcome, count] of Object.entries(ocsp.requests)) this.inc({ outcome }, count);
    },
  });

  const fixed: { kind: string; name: string; notAfter: number }[] = [];
  for (const l of s.listeners) {
    const pem = l.certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pem[0]) fixed.push({ kind: "server", name: l.name, notAfter: Date.parse(new X509Certificate(pem[0]).validTo) });
    pem.slice(1).forEach((p, i) => fixed.push({ kind: "server-chain", name: `${l.name}#${i + 1}`, notAfter: Date.parse(new X509Certificate(p).validTo) }));
    for (const a of l.anchors) fixed.push({ kind: "trust-anchor", name: a.label, notAfter: a.notAfter.getTime() });
  }
  const acs = new Map<string, { name: string; notAfter: number }>();
  const clients = new Map<string, number>();
  new Gauge({
    name: "ofb_edge_certificate_expiry_days",
    help: "Days until a certificate expires: server certificates, trust anchors, issuing ACs seen in client chains, and the earliest client certificate seen per organisation (bounded); across workers the soonest.",
    labelNames: ["kind", "name"],
    registers,
    aggregator: "min",
    collect() {
      this.reset();
      for (const f of fixed) this.set({ kind: f.kind, name: f.name }, days(f.notAfter));
      for (const a of acs.values()) this.set({ kind: "ac", name: a.name }, days(a.notAfter));
      for (const [org, notAfter] of clients) this.set({ kind: "client", name: org }, days(notAfter));
    },
  });
  for (const f of fixed) warn(f.kind, f.name, f.notAfter);

  const seenThumbprints = new Set<string>();
  const seenOrganisations = new Set<string>();
  const observed = new WeakSet<VerifiedClient>();
  return {
    observe(client) {
      // The peer state is shared by every connection from one chain: the work below runs once per chain.
      if (observed.has(client)) return;
      observed.add(client);
      const { organisationId } = client.identity;
      const leafNotAfter = client.verdict.chain[0]!.notAfter.getTime();
      if (!seenOrganisations.has(organisationId)) {
        seenOrganisations.add(organisationId);
        metrics.firstSeen.inc({ kind: "organisation", ...metrics.workerLabels });
        s.logger.info({ kind: "identity", event: "first-seen", organisationId, thumbprint: client.thumbprint }, "organisation seen for the first time");
      }
      if (!seenThumbprints.has(client.thumbprint)) {
        if (seenThumbprints.size >= MAX_THUMBPRINTS) seenThumbprints.clear();
        seenThumbprints.add(client.thumbprint);
        metrics.firstSeen.inc({ kind: "thumbprint", ...metrics.workerLabels });
        s.logger.info({ kind: "identity", event: "first-seen", organisationId, softwareStatementId: client.identity.softwareStatementId, thumbprint: client.thumbprint }, "client certificate seen for the first time");
      }
      const earliest = clients.get(organisationId);
      if (earliest === undefined ? clients.size < MAX_CLIENT_ORGANISATIONS : leafNotAfter < earliest) clients.set(organisationId, leafNotAfter);
      warn("client certificate", `${organisationId} ${client.thumbprint}`, leafNotAfter);
      for (const ac of client.verdict.chain.slice(1)) {
        if (acs.has(ac.sha256)) continue;
        acs.set(ac.sha256, { name: ac.label, notAfter: ac.notAfter.getTime() });
        warn("AC", ac.label, ac.notAfter.getTime());
      }
    },
  };
}
