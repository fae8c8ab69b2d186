import { rmSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { cpus, placementText } from "./cpus.js";
import type { TestPkiClient, TestPkiManifest } from "../src/pki/test-pki/manifest.js";
import { probe, spawnRole, type Child, type LoadProfile } from "./load.js";
import { BACKEND_BODY, type RoleSpec, type RoleStats } from "./roles.js";
import { diffStats } from "./rounds.js";

/** The start of every load benchmark, shared: the test PKI, participant-a's load, checks before measuring. */

/** The 1, 5 and 15 minute load averages, as the benchmarks print them. */
export const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/**
 * A run's temp dir (`ofb-edge-bench-<name>…`) and child processes: `spawn` forks `script` with a role (see
 * `spawnRole`), `close` stops every child it started and removes the dir. Call `close` in a `finally`.
 */
export async function benchRun(script: string, name: string) {
  const dir = await mkdtemp(join(tmpdir(), `ofb-edge-bench-${name}`));
  const children: Child[] = [];
  return {
    dir,
    async spawn(role: Child["role"], spec: RoleSpec | object): Promise<Child> {
      const child = await spawnRole(script, role, spec);
      children.push(child);
      return child;
    },
    async close(): Promise<void> {
      await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Something a run starts besides its children (a Redis server, an HTTP server in this process). */
export interface RunResource {
  stop(): Promise<void>;
  /** Synchronous last resort at process exit, for what would outlive this process. */
  kill?(): void;
}

/**
 * Makes sure a run leaves nothing behind, also on error, Ctrl-C or SIGTERM: `close` (call it in a `finally`)
 * stops the run's children, then every resource `add`ed, and removes the temp dir; SIGINT or SIGTERM does the
 * same and exits with 130; at process exit the resources are killed and the dir removed as a last resort.
 * `interrupted()` is for `benchMain`'s `quiet`: after a signal, what fails is the clean-up at work.
 */
export function guardRun(run: Awaited<ReturnType<typeof benchRun>>) {
  const resources: RunResource[] = [];
  let interrupted = false;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await run.close();
      for (const r of resources) await r.stop();
    })());
  const onExit = () => {
    for (const r of resources) r.kill?.();
    rmSync(run.dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    console.error(`\n${signal}: stopping every child process and server`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on("exit", onExit);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    add<R extends RunResource>(resource: R): R {
      resources.push(resource);
      return resource;
    },
    interrupted: () => interrupted,
    async close(): Promise<void> {
      await cleanup();
      process.off("exit", onExit);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/** `node v20…, 2 cores, load average …`: the machine a run was taken on. */
export const machineText = () => `node ${process.version}, ${cpus} cores, load average ${loadAverage()}\n${placementText()}`;

/**
 * A test PKI in `<dir>/pki` and what the benchmark needs from it: participant-a (its certificate chain, leaf
 * and intermediate, is what the load presents), the load profile with its key, and the servers' spec with no
 * upstream yet (the backend's own spec).
 */
export async function benchPki(dir: string, interactionId: string, logLevel: RoleSpec["logLevel"]) {
  // Imported here so that the server children do not load the PKI generator.
  const { generateTestPki } = await import("../src/pki/test-pki/index.js");
  const pki = await generateTestPki({ out: join(dir, "pki") });
  const { client, profile } = await clientProfile(pki, "participant-a", interactionId);
  const spec: RoleSpec = { cert: pki.server.cert, key: pki.server.key, trustAnchors: pki.trustAnchors, upstream: "", logLevel };
  return { pki, client, profile, spec };
}

/** A test-PKI client (its manifest entry) and the profile that presents its chain, leaf and intermediate. */
export async function clientProfile(pki: TestPkiManifest, name: string, interactionId: string): Promise<{ client: TestPkiClient; profile: LoadProfile }> {
  const client = pki.clients[name];
  if (!client) throw new Error(`test PKI has no ${name}`);
  const profile: LoadProfile = { cert: await readFile(client.chain), key: await readFile(client.key), ca: await readFile(pki.trustAnchors), interactionId };
  return { client, profile };
}

/** One probe through `child` (a new connection), with what the backend counted meanwhile. */
export async function probeThrough(child: Pick<Child, "port">, backend: Child, profile: LoadProfile) {
  const before = await backend.stats();
  const res = await probe(child.port, profile, "keep-alive");
  const seen: RoleStats = diffStats(before, await backend.stats());
  return { res, seen };
}

/**
 * What is wrong with a probe that should have been forwarded once: 200 with the backend's body, the
 * interaction id echoed, one request at the backend.
 */
export function forwardedFailures(name: string, { res, seen }: Awaited<ReturnType<typeof probeThrough>>, interactionId: string): string[] {
  const failures: string[] = [];
  if (res.status !== 200) failures.push(`${name} answered ${res.status}: ${res.body.slice(0, 300)}`);
  else if (res.body !== BACKEND_BODY) failures.push(`${name} answered 200 but not with the backend's body`);
  if (res.interactionId !== interactionId) failures.push(`${name} did not echo x-fapi-interaction-id`);
  if (seen.requests !== 1) failures.push(`${name}: the backend saw ${seen.requests} request(s) for 1 probe`);
  return failures;
}

/** Prints the failed checks in a banner; true when there are any (the benchmark then stops with exit code 1). */
export function setupFailed(failures: readonly string[], what = "nothing measured"): boolean {
  if (failures.length === 0) return false;
  const bar = "!".repeat(78);
  console.error(`\n${bar}\n!! SETUP FAILED, ${what}:\n${failures.map((f) => `!!  - ${f}`).join("\n")}\n${bar}`);
  return true;
}
