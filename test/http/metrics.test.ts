import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import { startAuthorizationServerStub, type AuthorizationServerStub } from "../../src/dev/authorization-server.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * `/metrics` on the admin listener (Prometheus text): the series an operator alerts on are present and move with
 * traffic — requests, rejections by code, handshakes, Directory snapshot age and size, token cache lookups,
 * certificate expiry (server, anchors, ACs, clients by organisation) and the first-seen signal.
 */

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let mock: MockDirectory;
let as: AuthorizationServerStub;
let edge: Awaited<ReturnType<typeof startTestEdge>>;

const scrape = async () => {
  const res = await fetch(`http://127.0.0.1:${edge.edge.adminPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
};
const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  mock = await startMockDirectory({ fixtureDir: pki.directory.participants.replace(/participants\.json$/, "") });
  as = await startAuthorizationServerStub();
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    admin: { host: "127.0.0.1", port: 0, expiryWarningDays: 400 },
    directory: { participantsUrl: mock.participantsUrl, keystoreUrl: mock.keystoreUrl, store: { type: "memory" } },
    authorizationServer: { issuer: as.issuer },
  });
});

afterAll(async () => {
  await edge?.close();
  await as?.close();
  await mock?.close();
  await backend?.close();
});

describe("/metrics", () => {
  it("is present and moves with traffic", async () => {
    const before = await scrape();
    expect(value(before, 'ofb_edge_directory_snapshot_organisations')).toBeGreaterThan(0);
    expect(value(before, 'ofb_edge_directory_snapshot_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(value(before, 'ofb_edge_certificate_expiry_days{kind="server",name="mtls"}')).toBeGreaterThan(0);
    expect(before).toMatch(/ofb_edge_certificate_expiry_days\{kind="trust-anchor",name="[^"]+"\} \d+/);

    const a = pki.clients["participant-a"]!;
    const token = await as.issueJwt({ thumbprint: a.thumbprint });
    for (let i = 0; i < 3; i++) {
      const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    }
    expect((await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-pending"), headers: { authorization: `Bearer ${token}` } })).status).toBe(403);

    const after = await scrape();
    expect(value(after, 'ofb_edge_requests_total{route="open-banking",status="200"}')).toBe(3);
    expect(value(after, 'ofb_edge_rejections_total{stage="directory",code="DIRECTORY_ORG_PENDING"}')).toBe(1);
    expect(value(after, 'ofb_edge_tls_connections_total{listener="mtls",result="accepted"}')).toBe(4);
    expect(value(after, 'ofb_edge_token_cache_lookups_total{result="miss"}')).toBe(1);
    expect(value(after, 'ofb_edge_token_cache_lookups_total{result="hit"}')).toBe(2);
    expect(value(after, 'ofb_edge_identity_first_seen_total{kind="organisation"}')).toBe(2);
    expect(value(after, 'ofb_edge_identity_first_seen_total{kind="thumbprint"}')).toBe(2);
    expect(value(after, `ofb_edge_certificate_expiry_days{kind="client",name="${a.organisationId}"}`)).toBeGreaterThan(0);
    expect(after).toMatch(/ofb_edge_certificate_expiry_days\{kind="ac",name="AC TESTE SSL EV G4"\} \d+/);
    expect(after).toMatch(/ofb_edge_request_duration_seconds_bucket\{le="\+Inf",route="open-banking"\} 4/);
  });

  it("expiry within admin.expiryWarningDays is logged once per certificate, and first-seen identities are logged", () => {
    const warnings = edge.logs.filter((l) => l.kind === "expiry");
    expect(warnings.some((l) => l.what === "server")).toBe(true);
    expect(warnings.some((l) => l.what === "client certificate")).toBe(true);
    expect(new Set(warnings.map((l) => `${l.what}:${l.name}`)).size).toBe(warnings.length);
    expect(edge.logs.some((l) => l.kind === "identity" && l.event === "first-seen" && l.organisationId === pki.clients["participant-a"]!.organisationId)).toBe(true);
  });
});
