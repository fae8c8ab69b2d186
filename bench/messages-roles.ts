import type { Config } from "../src/config/schema.js";
import { extendedBenchConfig, serveRole, startEdgeRole, type RoleSpec } from "./roles.js";

/** The child process bench/messages.ts adds to bench/roles.ts's backend. */
export type MessagesRole = "messages-edge";
export const MESSAGES_ROLES: readonly MessagesRole[] = ["messages-edge"];

/** The public base URL every edge publishes: a message's `aud` is this and the path. */
export const SIGNING_PUBLIC_BASE = "https://api.bank.bench";

/** Which of the three message rules the edge's one route enforces, and where their state lives. */
export interface MessagesEdgeSpec extends RoleSpec {
  /** The mock Directory (participants and keystore: the callers' application keys). */
  readonly participantsUrl: string;
  readonly keystoreUrl: string;
  /** The bank's response signing key, its published kid and organisation id. */
  readonly bank: { readonly keyFile: string; readonly kid: string; readonly organisationId: string };
  readonly signing: boolean;
  readonly idempotency: boolean;
  readonly limits: boolean;
  /** The Redis the three rules keep their state in (jti, idempotency, limits); memory stores when absent. */
  readonly redis?: string;
}

/**
 * Limits no benchmark reaches (every request is counted, none refused): the payments family per organisation, per
 * second and per minute, and the route's global ceiling.
 */
const UNREACHED_LIMITS = { families: { payments: { organisation: { perSecond: 1_000_000, perMinute: 60_000_000 } } } } as const;
const GLOBAL_PER_SECOND = 10_000_000;

/**
 * bench/roles.ts's edge configuration plus the Directory (memory store) and the `messageSigning`, `idempotency` and
 * `limits` sections, the same on every edge: only the route's three modes differ, so an edge with the rules off
 * has the same sections loaded. The route's Directory check is off on every edge; `clockSkewSeconds` is the
 * schema's maximum because the load's messages are signed before the runs.
 */
export function messagesEdgeConfig(spec: MessagesEdgeSpec): Config {
  const store = (keyPrefix: string) => (spec.redis ? { type: "redis" as const, url: spec.redis, keyPrefix } : { type: "memory" as const });
  return extendedBenchConfig(
    spec,
    {
      participant: "off",
      publicBaseUrl: SIGNING_PUBLIC_BASE,
      messageSigning: spec.signing ? "verify-and-sign" : "off",
      idempotency: spec.idempotency ? "enforce" : "off",
      ...(spec.limits ? { limits: "enforce" as const, globalPerSecond: GLOBAL_PER_SECOND } : {}),
    },
    {
      directory: { participantsUrl: spec.participantsUrl, keystoreUrl: spec.keystoreUrl, store: { type: "memory" } },
      messageSigning: {
        organisationId: spec.bank.organisationId,
        signingKey: { file: spec.bank.keyFile, kid: spec.bank.kid },
        clockSkewSeconds: 300,
        replayStore: store(`bench-jti-${process.pid}:`),
      },
      idempotency: { store: store(`bench-idem-${process.pid}:`) },
      limits: { store: store(`bench-limits-${process.pid}:`), ...UNREACHED_LIMITS },
    },
  );
}

/** Runs one of {@link MESSAGES_ROLES} in this (child) process until the parent stops it. */
export function runMessagesRole(_role: MessagesRole, spec: MessagesEdgeSpec): Promise<void> {
  return serveRole(() => startEdgeRole(spec, messagesEdgeConfig(spec)));
}
