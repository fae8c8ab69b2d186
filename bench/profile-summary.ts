import { readFileSync } from "node:fs";

/**
 * Summarises a V8 `.cpuprofile` (from `BENCH_CPU_PROF` or `node --cpu-prof`): busy vs idle time, self time
 * per module (npm package, `src/<stage>/<file>`, Node internal module or native), the top functions by self
 * time, and the inclusive time of the edge's own functions.
 *
 *   node dist/bench/profile-summary.js <file.cpuprofile> [top=30] [skip seconds=0]
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a function lives: `hono`, `@pinojs/redact`, `src/proxy/forward.js`, `node:streams/pipeline`, or `(native)`. */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/((?:src|bench)\/.+)$/.exec(url);
  if (own) return own[1]!;
  if (url.startsWith("node:")) return url.replace(/^node:internal\//, "node:");
  return url;
}

/** The parts of a request's path that `summarise` splits busy time into, by module (first match wins). */
const PARTS: readonly (readonly [RegExp, string])[] = [
  [/^(pino|sonic-boom|thread-stream|@pinojs\/.*|src\/log\/.*|src\/http\/access-log\.js)$/, "access log (pino, sonic-boom, access-log.ts)"],
  [/^prom-client$/, "metrics (prom-client)"],
  [/^src\/profiles\//, "header profiles (src/profiles)"],
  [/^src\/proxy\//, "proxy stage (src/proxy)"],
  [/^src\/(tls|connection|pki|identity)\//, "connection: TLS peer, chain policy, identity (src/tls, connection, pki, identity)"],
  [/^src\/(binding|http\/binding\.js)/, "token binding (src/binding)"],
  [/^src\/(directory|http\/participant\.js)/, "Directory check (src/directory)"],
  [/^src\//, "other edge stages and routing (src/)"],
  [/^(undici|wasm:.*|node:deps\/undici\/undici)$/, "upstream HTTP client (undici, llhttp)"],
  [/^(hono|@hono\/node-server)$/, "Hono and its Node adapter"],
  [/^node:_http_/, "HTTP/1.1 server (node:_http_*)"],
  [/^node:(_tls_wrap|_tls_common|tls|net|stream_base_commons|streams\/.*)$/, "TLS and socket I/O (node:_tls_wrap, net, streams)"],
  [/^\(garbage collector\)$/, "garbage collector"],
  [/^\(program\)$/, "(program): V8 and native code outside JS"],
  [/^node:(process\/task_queues|timers|events)$/, "event loop: ticks, promises, timers, events"],
];

function partOf(frame: CallFrame): string | undefined {
  const module = moduleOf(frame);
  return PARTS.find(([pattern]) => pattern.test(module))?.[1];
}

function label(frame: CallFrame): string {
  return `${frame.functionName || "(anonymous)"}  ${moduleOf(frame)}:${frame.lineNumber + 1}`;
}

export function summarise(profile: Profile, top: number, skipSeconds = 0): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfTime = new Map<number, number>();
  // Samples in the first `skipSeconds` are left out: a whole-life profile (`node --cpu-prof`) starts with start-up.
  let at = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= skipSeconds * 1e6) selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });

  let idle = 0;
  let busy = 0;
  const perModule = new Map<string, number>();
  const perFunction = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)") {
      idle += t;
      continue;
    }
    busy += t;
    perModule.set(moduleOf(frame), (perModule.get(moduleOf(frame)) ?? 0) + t);
    perFunction.set(label(frame), (perFunction.get(label(frame)) ?? 0) + t);
  }

  // Inclusive time of the edge's own functions, counted once per stack (recursion and re-entry aside).
  const inclusive = new Map<string, number>();
  const walk = (id: number, open: ReadonlySet<string>): number => {
    const node = byId.get(id)!;
    const key = label(node.callFrame);
    const own = moduleOf(node.callFrame).startsWith("src/");
    const next = own && !open.has(key) ? new Set([...open, key]) : open;
    let t = selfTime.get(id) ?? 0;
    for (const child of node.children ?? []) t += walk(child, next);
    if (own && !open.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    return t;
  };
  walk(profile.nodes[0]!.id, new Set());

  const table = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `  ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`)
      .join("\n");
  // Busy time by part of the request's path: each sample goes to the nearest frame on its stack that belongs to a
  // part (a native function counts for whoever called it, a Node stream for the socket or the HTTP layer using it).
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const perPart = new Map<string, number>();
  for (const [id, t] of selfTime) {
    if (byId.get(id)!.callFrame.functionName === "(idle)") continue;
    let part: string | undefined;
    for (let q: number | undefined = id; q !== undefined && part === undefined; q = parentOf.get(q)) part = partOf(byId.get(q)!.callFrame);
    perPart.set(part ?? "other", (perPart.get(part ?? "other") ?? 0) + t);
  }

  return [
    `sampled ${((idle + busy) / 1e6).toFixed(1)} s: busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s (percentages below are of busy time)`,
    "busy time by part of the path (nearest frame on the stack that belongs to one):",
    table(perPart),
    "self time by module:",
    table(perModule),
    "self time by function:",
    table(perFunction),
    "inclusive time of the edge's own functions (src/):",
    table(inclusive),
  ].join("\n");
}

const [file, topArg, skipArg] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: node dist/bench/profile-summary.js <file.cpuprofile> [top=30] [skip seconds=0]");
  process.exitCode = 2;
} else {
  console.log(summarise(JSON.parse(readFileSync(file, "utf8")) as Profile, Number(topArg ?? 30), Number(skipArg ?? 0)));
}
