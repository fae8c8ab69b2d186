import { createServer, type Server } from "node:net";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createRedisStore } from "../../src/directory/redis-store.js";
import { createLogger } from "../../src/log/logger.js";
import type { DirectoryStore } from "../../src/directory/types.js";
import { freePort } from "../helpers/backend.js";
import { manyOrgs, nextChange, rawRedis, sleep, snapshot, startRedisServer, uniquePrefix, type RedisServer } from "../helpers/redis.js";

// Each test that kills or restarts Redis gets its own redis-server, so the shared one is never disturbed.
describe("Redis directory store under faults", () => {
  let server: RedisServer | undefined;
  const stores: DirectoryStore[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())));
    await server?.kill();
    server = undefined;
  });
  async function store(url: string, prefix: string, clientName?: string): Promise<DirectoryStore> {
    const s = await createRedisStore({ url, keyPrefix: prefix, ...(clientName ? { clientName } : {}) });
    stores.push(s);
    return s;
  }
  async function raw(url: string): Promise<Redis> {
    const c = await rawRedis(url);
    clients.push(c);
    return c;
  }

  // The real store publishes; the sync is killed from outside the way a crash looks to Redis: once v2's first
  // chunk has landed, writes are frozen (CLIENT PAUSE WRITE, so the flip cannot slip through), the writer's
  // connection is cut (CLIENT KILL: the rest of its pipeline is never executed), and writes resume. A SIGKILLed
  // child process would look the same to Redis, but could not run the TypeScript store without a build.
  it("a publish killed midway never becomes visible: v1 stays current and readable, v2's keys expire on their own", async () => {
    server = await startRedisServer();
    const prefix = uniquePrefix();
    const observer = await raw(server.url);
    const v1orgs = manyOrgs(200, "1");
    const writer = await store(server.url, prefix, "edge-writer");
    const reader = await store(server.url, prefix);
    const readerHeard = nextChange(reader, (m) => m.version === "v1");
    await writer.publish(snapshot("v1", v1orgs));
    await readerHeard;
    const [kept, changed, dropped] = [v1orgs[0]!, v1orgs[1]!, v1orgs[2]!];
    expect(await reader.organisation(kept.id)).toEqual(kept);
    // v2 (~15 MB) changes one organisation, drops one and adds 60 000.
    const added = manyOrgs(60_000, "2", 200);
    const v2 = snapshot("v2", [kept, { ...changed, status: "Withdrawn" }, ...v1orgs.slice(3), ...added]);

    const outcome = writer.publish(v2).then(() => "published", (err: Error) => err);
    while ((await observer.hlen(`${prefix}{directory}:snap:v2:orgs`)) === 0) {
      // Each HLEN is a round trip: no sleep, so the pause lands early in the publish.
    }
    await observer.call("CLIENT", "PAUSE", "10000", "WRITE");
    // Meanwhile readers see v1 only, cached or not.
    expect(reader.current()?.version).toBe("v1");
    expect(await reader.organisation(changed.id)).toEqual(changed);
    expect(await reader.organisation(added[0]!.id)).toBeNull();
    const writerConn = String(await observer.call("CLIENT", "LIST")).split("\n").find((l) => l.includes(" name=edge-writer "));
    await observer.call("CLIENT", "KILL", "ID", /\bid=(\d+)/.exec(writerConn ?? "")![1]!);
    await observer.call("CLIENT", "UNPAUSE");
    expect(await outcome).toBeInstanceOf(Error);

    expect(JSON.parse((await observer.get(`${prefix}{directory}:current`))!)).toMatchObject({ version: "v1" });
    expect(await observer.hlen(`${prefix}{directory}:snap:v2:orgs`)).toBeGreaterThan(0);
    expect(await observer.pttl(`${prefix}{directory}:snap:v2:orgs`)).toBeGreaterThan(0);
    expect(await observer.pttl(`${prefix}{directory}:snap:v2:cnpj`)).not.toBe(-1);
    expect(await observer.pttl(`${prefix}{directory}:snap:v1:orgs`)).toBe(-1);
    const late = await store(server.url, prefix);
    for (const s of [reader, late]) {
      expect(s.current()?.version).toBe("v1");
      expect(await s.organisation(changed.id)).toEqual(changed);
      expect(await s.organisation(dropped.id)).toEqual(dropped);
      expect(await s.organisation(added[0]!.id)).toBeNull();
      expect(await s.organisationsByCnpj(changed.registrationNumber)).toEqual([changed]);
    }
    // The writer reconnects and its next publish goes through completely.
    const heard = nextChange(reader, (m) => m.version === "v3");
    await retry(() => writer.publish(snapshot("v3", [kept])));
    await heard;
    expect(await late.organisation(changed.id)).toBeNull();
  });

  it("Redis restarted while serving: cached lookups keep answering, misses fail fast, and the store reconnects and resubscribes", async () => {
    server = await startRedisServer();
    const prefix = uniquePrefix();
    const logs: { level: string; msg: string }[] = [];
    const logger = createLogger({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line) as { level: string; msg: string }) });
    const s = await createRedisStore({ url: server.url, keyPrefix: prefix, logger });
    stores.push(s);
    const [cached, uncached] = manyOrgs(2, "r");
    await s.publish(snapshot("v1", [cached!, uncached!]));
    expect(await s.organisation(cached!.id)).toEqual(cached);

    await server.kill();
    expect(await s.organisation(cached!.id)).toEqual(cached);
    expect(await s.organisation(cached!.id.toUpperCase())).toEqual(cached);
    const started = performance.now();
    // A miss cannot be answered: it rejects (the caller fails closed with 503) within the bound, not never.
    await expect(s.organisation(uncached!.id)).rejects.toThrow(/directory store lookup failed/);
    await expect(s.organisationsByCnpj(uncached!.registrationNumber)).rejects.toThrow(/directory store lookup failed/);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(s.current()?.version).toBe("v1");
    await sleep(300);
    expect(await s.organisation(cached!.id)).toEqual(cached);

    await server.restart();
    const observer = await raw(server.url);
    const deadline = Date.now() + 5_000;
    while (((await observer.pubsub("NUMSUB", `${prefix}changed`)) as [string, number])[1] !== 1) {
      expect(Date.now()).toBeLessThan(deadline);
      await sleep(20);
    }
    // The restarted Redis is empty: the last good snapshot keeps serving from cache (D5), a miss fails closed
    // instead of calling the organisation unknown, and refreshCurrent reports no snapshot so the sync refetches.
    expect(await retry(() => s.refreshCurrent())).toBeNull();
    expect(s.current()?.version).toBe("v1");
    expect(await s.organisation(cached!.id)).toEqual(cached);
    await expect(s.organisation(uncached!.id)).rejects.toThrow(/snapshot v1 is no longer in Redis/);
    // Another replica publishes, and this one hears it.
    const other = await store(server.url, prefix);
    const withdrawn = { ...cached!, status: "Withdrawn" };
    const heard = nextChange(s, (m) => m.version === "v2");
    await other.publish(snapshot("v2", [withdrawn]));
    expect((await heard).version).toBe("v2");
    expect(await s.organisation(cached!.id)).toEqual(withdrawn);
    expect(await s.organisation(uncached!.id)).toBeNull();
    // One warning per outage, not one per reconnect attempt or per connection.
    expect(logs.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual(["directory store: Redis connection lost; lookups answer from the in-process cache"]);
    expect(logs.filter((l) => l.msg === "directory store: Redis connection restored")).toHaveLength(1);
  });

  // After a failover the subscriber can be back before the command connection: adopting the change then would
  // empty the in-process cache while nothing can be read, and every lookup would fail closed until the reconnect.
  it("a change heard while the command connection is still reconnecting is adopted once it is back; the cache answers meanwhile", async () => {
    server = await startRedisServer();
    const prefix = uniquePrefix();
    const [cached, other] = manyOrgs(2, "c");
    const s = await store(server.url, prefix, "edge-lagging");
    const writer = await store(server.url, prefix);
    await writer.publish(snapshot("v1", [cached!, other!]));
    await retry(async () => expect(s.current()?.version).toBe("v1"));
    expect(await s.organisation(cached!.id)).toEqual(cached);
    const observer = await raw(server.url);
    const withdrawn = { ...cached!, status: "Withdrawn" };
    const adopted = nextChange(s, (m) => m.version === "v2");
    // Cut only the command connection (its subscriber, `edge-lagging-changes`, stays), and publish at once.
    await observer.call("CLIENT", "KILL", "ID", String(clientId(String(await observer.call("CLIENT", "LIST")), "edge-lagging")));
    await writer.publish(snapshot("v2", [withdrawn], 1_700_000_060_000));
    expect(s.current()?.version).toBe("v1");
    expect(await s.organisation(cached!.id)).toEqual(cached);
    expect((await adopted).version).toBe("v2");
    expect(await s.organisation(cached!.id)).toEqual(withdrawn);
  });

  it("Redis hanging with the connection open: misses reject after commandTimeoutMs instead of waiting forever", async () => {
    server = await startRedisServer();
    const s = await createRedisStore({ url: server.url, keyPrefix: uniquePrefix(), commandTimeoutMs: 300 });
    stores.push(s);
    const [cached, uncached] = manyOrgs(2, "h");
    await s.publish(snapshot("v1", [cached!, uncached!]));
    expect(await s.organisation(cached!.id)).toEqual(cached);
    server.freeze();
    try {
      expect(await s.organisation(cached!.id)).toEqual(cached);
      const started = performance.now();
      await expect(s.organisation(uncached!.id)).rejects.toThrow(/directory store lookup failed: Command timed out/);
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      server.thaw();
    }
    expect(await s.organisation(uncached!.id)).toEqual(uncached);
  });

  describe("Redis unreachable at start-up", () => {
    let listener: Server | undefined;
    afterEach(async () => {
      await new Promise<void>((r) => (listener ? listener.close(() => r()) : r()));
      listener = undefined;
    });
    async function listen(port: number, onConnection: () => void): Promise<Server> {
      const srv = createServer((socket) => {
        onConnection();
        // Read (and ignore) what the client sends, so its FIN is seen and the socket closes.
        socket.resume().on("error", () => undefined);
      });
      await new Promise<void>((r) => srv.listen(port, "127.0.0.1", r));
      return srv;
    }

    it("refused: rejects within the timeout naming the masked URL and ECONNREFUSED, and never tries again", async () => {
      const port = await freePort();
      const url = `redis://edge:s3cret-pass@127.0.0.1:${port}/0`;
      const timersBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
      const started = performance.now();
      const err = (await createRedisStore({ url, keyPrefix: "t:", connectTimeoutMs: 400 }).catch((e: unknown) => e)) as Error;
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toContain(`redis://edge:***@127.0.0.1:${port}/0`);
      expect(err.message).toContain("ECONNREFUSED");
      expect(err.message).not.toContain("s3cret");
      // No reconnect timer survived: a Redis appearing on that port later is never contacted.
      let connections = 0;
      listener = await listen(port, () => connections++);
      await sleep(1_300);
      expect(connections).toBe(0);
      expect(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length).toBeLessThanOrEqual(timersBefore);
    });

    it("silent: a server that accepts but never answers fails start-up within the timeout, then is left alone", async () => {
      let connections = 0;
      listener = await listen(0, () => connections++);
      const { port } = listener.address() as { port: number };
      const timersBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
      const started = performance.now();
      await expect(createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: "t:", connectTimeoutMs: 400 })).rejects.toThrow(
        `cannot connect to Redis at redis://127.0.0.1:${port} within 400 ms`,
      );
      expect(performance.now() - started).toBeLessThan(1_500);
      const seen = connections;
      await sleep(1_300);
      expect(connections).toBe(seen);
      expect(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length).toBeLessThanOrEqual(timersBefore);
    });
  });
});

/** The id of the connection named exactly `name` in a CLIENT LIST reply. */
function clientId(list: string, name: string): number {
  const line = list.split("\n").find((l) => l.includes(` name=${name} `));
  return Number(/\bid=(\d+)/.exec(line ?? "")![1]);
}

/** Retries `run` for up to 3 s: a store needs a moment to reconnect. */
async function retry<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}
