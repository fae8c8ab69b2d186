import { afterEach, describe, expect, it } from "vitest";
import type { VerifiedClient } from "../../src/connection/peer-state.js";
import { openRedisDenyList, type DenyEntry, type DenyList } from "../../src/deny/deny-list.js";
import { uniquePrefix, until } from "../helpers/redis.js";
import { redisTopologies } from "../helpers/redis-topologies.js";

/**
 * The deny list on every Redis topology: what `ofb-edge deny` writes (a one-shot writer, no subscriber) applies on
 * every replica within a second, through pub/sub, on standalone, Sentinel and Cluster alike.
 */

const topologies = redisTopologies();

const ORG = "5f69111d-1a6e-4d3b-9f45-0a6d3c2b1e01";
const SS = "0e1f2a3b-4c5d-4e6f-8a7b-c8d9e0f1a2b3";
const client = { thumbprint: "x".repeat(43), identity: { organisationId: ORG.toUpperCase(), softwareStatementId: SS } } as unknown as VerifiedClient;
const entry = (kind: DenyEntry["kind"], value: string, expiresAt: string | null = null): DenyEntry => ({ kind, value, reason: `contract ${kind}`, addedAt: "2026-12-06T10:00:00.000Z", expiresAt });

describe.each(topologies)("deny list contract: Redis $name", (topology) => {
  const open: DenyList[] = [];
  let prefix = "";
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close()));
    await topology.cleanup(prefix);
  });
  async function list(subscribe: boolean): Promise<DenyList> {
    const l = await openRedisDenyList({ redis: topology.target(), keyPrefix: prefix, connectTimeoutMs: 5_000, subscribe });
    open.push(l);
    return l;
  }

  it("an entry written by the one-shot writer applies on every replica within a second, and its removal too", async () => {
    prefix = uniquePrefix();
    const [a, b] = [await list(true), await list(true)];
    const writer = await list(false);
    expect([a.reachable(), b.reachable(), writer.reachable()]).toEqual([true, true, true]);
    const now = Date.parse("2026-12-06T12:00:00Z");
    expect(a.match(client, now)).toBeNull();
    await writer.add(entry("organisation", ORG));
    await until(1_000, "both replicas apply the organisation entry", async () => a.match(client, now)?.kind === "organisation" && b.match(client, now)?.kind === "organisation");
    await writer.add(entry("thumbprint", client.thumbprint, "2026-12-06T13:00:00.000Z"));
    await until(1_000, "the thumbprint entry applies first", async () => b.match(client, now)?.kind === "thumbprint");
    // Expiry is judged on the caller's clock.
    expect(b.match(client, Date.parse("2026-12-06T14:00:00Z"))?.kind).toBe("organisation");
    expect((await writer.list()).map((e) => e.kind).sort()).toEqual(["organisation", "thumbprint"]);
    expect(await writer.remove("organisation", ORG)).toBe(true);
    expect(await writer.remove("organisation", ORG)).toBe(false);
    expect(await writer.remove("thumbprint", client.thumbprint)).toBe(true);
    await until(1_000, "both replicas drop the entries", async () => a.match(client, now) === null && b.match(client, now) === null);
    expect([a.size(), b.size()]).toEqual([0, 0]);
  });

  it("a replica opened after a change reads the whole list at once", async () => {
    prefix = uniquePrefix();
    const writer = await list(false);
    await writer.add(entry("software-statement", SS));
    const late = await list(true);
    expect(late.match(client, Date.now())).toMatchObject({ kind: "software-statement", reason: "contract software-statement" });
  });
});
