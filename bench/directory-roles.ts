import type { Config } from "../src/config/schema.js";
import { startMockDirectory } from "../src/directory/mock.js";
import { extendedBenchConfig, serveRole, startEdgeRole, type RoleSpec } from "./roles.js";

/** The child processes bench/directory.ts adds to bench/roles.ts's backend. */
export type DirectoryRole = "mock-directory" | "directory-edge";
export const DIRECTORY_ROLES: readonly DirectoryRole[] = ["mock-directory", "directory-edge"];

/** The mock Directory's folder (`participants.json`, `keystore/`). */
export interface MockDirectorySpec {
  readonly fixtureDir: string;
}

/** An edge with a `directory` section (Redis store); only the route's `participant` mode differs between the two. */
export interface DirectoryEdgeSpec extends RoleSpec {
  readonly participantsUrl: string;
  readonly keystoreUrl: string;
  readonly redisUrl: string;
  /** Each edge its own prefix, so each one does its own full sync at start. */
  readonly keyPrefix: string;
  readonly participant: "check" | "off";
}

/**
 * bench/roles.ts's edge configuration plus the Directory: the Redis store, the mock Directory's URLs and the default
 * settings otherwise (transport-key check on, docs/architecture.md, decision D6). Both edges carry the same
 * `directory` section, so both sync, hold a snapshot and keep their Redis connections; `participant` alone differs.
 */
export function directoryEdgeConfig(spec: DirectoryEdgeSpec): Config {
  return extendedBenchConfig(
    spec,
    { participant: spec.participant },
    { directory: { participantsUrl: spec.participantsUrl, keystoreUrl: spec.keystoreUrl, store: { type: "redis", url: spec.redisUrl, keyPrefix: spec.keyPrefix } } },
  );
}

/** Runs one of {@link DIRECTORY_ROLES} in this (child) process until the parent stops it. */
export function runDirectoryRole(role: DirectoryRole, spec: MockDirectorySpec | DirectoryEdgeSpec): Promise<void> {
  if (role === "directory-edge") {
    const edgeSpec = spec as DirectoryEdgeSpec;
    return serveRole(() => startEdgeRole(edgeSpec, directoryEdgeConfig(edgeSpec)));
  }
  return serveRole(async () => {
    let requests = 0;
    const mock = await startMockDirectory({ fixtureDir: (spec as MockDirectorySpec).fixtureDir, onRequest: () => void requests++ });
    return { port: Number(new URL(mock.url).port), stats: () => ({ handshakes: 0, requests, clientCertRequests: 0 }), close: () => mock.close() };
  });
}
