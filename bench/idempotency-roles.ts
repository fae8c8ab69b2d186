import type { Config } from "../src/config/schema.js";
import { extendedBenchConfig, serveRole, startEdgeRole, type RoleSpec } from "./roles.js";

/** The child process bench/idempotency.ts adds to bench/roles.ts's backend. */
export type RulesRole = "rules-edge";
export const RULES_ROLES: readonly RulesRole[] = ["rules-edge"];

/** An edge whose one route differs only in the message-level rules it enforces, and where their state lives. */
export interface RulesEdgeSpec extends RoleSpec {
  readonly idempotency: boolean;
  readonly limits: boolean;
  /** The Redis both rules keep their state in; memory when absent. */
  readonly redis?: string;
}

/**
 * Limits no benchmark reaches (every request is counted, none refused): the payments family per organisation, per
 * second and per minute, and the route's global ceiling.
 */
const UNREACHED_LIMITS = { families: { payments: { organisation: { perSecond: 1_000_000, perMinute: 60_000_000 } } } } as const;
const GLOBAL_PER_SECOND = 10_000_000;

/**
 * bench/roles.ts's edge configuration (one worker, no Directory, no authorization server) with the `idempotency`
 * and `limits` sections on when the spec says so, and the route enforcing them; an edge with both off has neither
 * section.
 */
export function rulesEdgeConfig(spec: RulesEdgeSpec): Config {
  const store = (keyPrefix: string) => (spec.redis ? { type: "redis" as const, url: spec.redis, keyPrefix } : { type: "memory" as const });
  return extendedBenchConfig(
    spec,
    { idempotency: spec.idempotency ? "enforce" : "off", ...(spec.limits ? { limits: "enforce" as const, globalPerSecond: GLOBAL_PER_SECOND } : {}) },
    {
      ...(spec.idempotency ? { idempotency: { store: store(`bench-idem-${process.pid}:`) } } : {}),
      ...(spec.limits ? { limits: { store: store(`bench-limits-${process.pid}:`), ...UNREACHED_LIMITS } } : {}),
    },
  );
}

/** Runs one of {@link RULES_ROLES} in this (child) process until the parent stops it. */
export function runRulesRole(_role: RulesRole, spec: RulesEdgeSpec): Promise<void> {
  return serveRole(() => startEdgeRole(spec, rulesEdgeConfig(spec)));
}
