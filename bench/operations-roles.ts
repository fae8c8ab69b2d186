import type { Config } from "../src/config/schema.js";
import type { RevocationConfigInput } from "../src/revocation/config.js";
import { benchConfigInput, parseBenchConfig, serveRole, startEdgeRole, type RoleSpec } from "./roles.js";

/** The child process bench/operations.ts adds to bench/roles.ts's backend. */
export type OperationsRole = "operations-edge";
export const OPERATIONS_ROLES: readonly OperationsRole[] = ["operations-edge"];

/** An edge whose top-level `revocation` and `denyList` sections are the only difference between the two. */
export interface OperationsEdgeSpec extends RoleSpec {
  /**
   * Both edges' listener. `permissive` (the default of the benchmark) answers a revoked certificate in HTTP
   * (401 CERT_REVOKED); `strict` closes its connection right after the handshake. Either way, every request
   * on an open connection is checked against the CRLs and the deny list.
   */
  readonly listenerMode: "permissive" | "strict";
  readonly revocation: RevocationConfigInput;
  /** The deny list's Redis and key prefix; no deny list when absent. */
  readonly denyList?: { readonly url: string; readonly keyPrefix: string };
}

/** bench/roles.ts's edge configuration with `spec`'s listener mode, revocation and deny list. */
export function operationsEdgeConfig(spec: OperationsEdgeSpec): Config {
  const base = benchConfigInput(spec);
  return parseBenchConfig({
    ...base,
    listeners: base.listeners.map((l) => ({ ...l, mode: spec.listenerMode })),
    revocation: spec.revocation,
    ...(spec.denyList && { denyList: spec.denyList }),
  });
}

/** Runs one of {@link OPERATIONS_ROLES} in this (child) process until the parent stops it. */
export function runOperationsRole(_role: OperationsRole, spec: OperationsEdgeSpec): Promise<void> {
  return serveRole(() => startEdgeRole(spec, operationsEdgeConfig(spec)));
}
