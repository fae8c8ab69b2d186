import { randomUUID } from "node:crypto";
import { Agent, request } from "node:https";
import { request as httpRequest } from "node:http";

/**
 * Steady keep-alive load through a client-side load balancer that health-checks each edge's `/readyz`, as a cloud load
 * balancer or HAProxy does: a client keeps its connection to one edge while that edge keeps it alive, and after a
 * `Connection: close` (or a failure) reconnects to an edge that is ready. Used by `bench/drain.ts` and the drain test.
 */

/** One edge behind the balancer. `ready` follows its `/readyz` (see {@link watchReadiness}). */
export interface Target {
  readonly name: string;
  readonly port: number;
  ready: boolean;
}

export interface LoadOptions {
  readonly targets: readonly Target[];
  /** Concurrent clients, each with at most one connection at a time. */
  readonly clients: number;
  readonly tls: { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer; readonly servername: string };
  readonly path: string;
  /** Per request; default 10 s. */
  readonly timeoutMs?: number;
}

export interface Outcome {
  readonly target: string;
  /** performance.now() when the answer (or the failure) came. */
  readonly at: number;
  readonly status: number | null;
  /** The response's `Connection` field, lower case. */
  readonly connection: string | undefined;
  readonly error?: string;
}

export interface Load {
  /** Every request so far, in completion order. */
  readonly outcomes: readonly Outcome[];
  /** Stops issuing requests, waits for those in flight, and closes every connection. */
  stop(): Promise<readonly Outcome[]>;
}

/** Starts `clients` loops, each sending one request after the other until `stop`. */
export function startLoad(o: LoadOptions): Load {
  const outcomes: Outcome[] = [];
  let running = true;
  let next = 0;
  const agents: Agent[] = [];
  const pick = (): Target | undefined => {
    const ready = o.targets.filter((t) => t.ready);
    return ready.length === 0 ? undefined : ready[next++ % ready.length];
  };
  const loop = async () => {
    let target: Target | undefined;
    let agent: Agent | undefined;
    while (running) {
      if (!target || !agent) {
        target = pick();
        if (!target) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        agent = new Agent({ keepAlive: true, maxSockets: 1 });
        agents.push(agent);
      }
      const outcome = await once(o, target, agent);
      outcomes.push(outcome);
      // The edge closed the connection (or it failed): the next request goes wherever the balancer sends a new one.
      if (outcome.connection === "close" || outcome.error !== undefined) {
        agent.destroy();
        agent = undefined;
        target = undefined;
      }
    }
  };
  const loops = Array.from({ length: o.clients }, loop);
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
      return outcomes;
    },
  };
}

function once(o: LoadOptions, target: Target, agent: Agent): Promise<Outcome> {
  return new Promise((resolve) => {
    const done = (status: number | null, connection: string | undefined, error?: string) =>
      resolve({ target: target.name, at: performance.now(), status, connection, ...(error === undefined ? {} : { error }) });
    const req = request(
      {
        host: "127.0.0.1",
        port: target.port,
        path: o.path,
        method: "GET",
        agent,
        ...o.tls,
        headers: { "x-fapi-interaction-id": randomUUID(), connection: "keep-alive" },
        timeout: o.timeoutMs ?? 10_000,
      },
      (res) => {
        res.on("error", (err: NodeJS.ErrnoException) => done(res.statusCode ?? null, res.headers.connection, err.code ?? err.message));
        res.resume();
        res.on("end", () => done(res.statusCode ?? null, res.headers.connection?.toLowerCase(), res.statusCode === 200 ? undefined : `status ${res.statusCode}`));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err: NodeJS.ErrnoException) => done(null, undefined, err.code ?? err.message));
    req.end();
  });
}

/**
 * Health-checks `target` at `readyzUrl` every `intervalMs` (a new connection each time, as balancers do): 200 sets
 * `ready`, anything else — 503, a refused connection — clears it. Returns a function that stops it.
 */
export function watchReadiness(target: Target, readyzUrl: string, intervalMs: number): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const req = httpRequest(readyzUrl, { agent: false, timeout: intervalMs }, (res) => {
      res.resume();
      target.ready = res.statusCode === 200;
      schedule();
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", () => {
      target.ready = false;
      schedule();
    });
    req.end();
  };
  const schedule = () => {
    if (!stopped) timer = setTimeout(check, intervalMs);
  };
  check();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
