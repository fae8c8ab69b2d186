import type { Config } from "../src/config/schema.js";
import { extendedBenchConfig, serveRole, startEdgeRole, type RoleSpec } from "./roles.js";

/** The child process bench/signing.ts adds to bench/roles.ts's backend. */
export type SigningRole = "signing-edge";
export const SIGNING_ROLES: readonly SigningRole[] = ["signing-edge"];

/** The public base URL both edges publish: a message's `aud` is this and the path. */
export const SIGNING_PUBLIC_BASE = "https://api.bank.bench";

/** An edge with a `messageSigning` section; only the route's `messageSigning` mode differs between the two. */
export interface SigningEdgeSpec extends RoleSpec {
  /** The mock Directory (participants and keystore: the callers' application keys). */
  readonly participantsUrl: string;
  readonly keystoreUrl: string;
  /** The bank's response signing key, its published kid and organisation id. */
  readonly bank: { readonly keyFile: string; readonly kid: string; readonly organisationId: string };
  readonly messageSigning: "verify-and-sign" | "off";
}

/**
 * bench/roles.ts's edge configuration plus the Directory (memory store) and a `messageSigning` section (PS256, the
 * memory jti store, the bank's key). The route's Directory check is off on both edges, so the message rule is all
 * that differs; `clockSkewSeconds` is the schema's maximum because the load's messages are signed before the runs.
 */
export function signingEdgeConfig(spec: SigningEdgeSpec): Config {
  return extendedBenchConfig(
    spec,
    { participant: "off", messageSigning: spec.messageSigning, publicBaseUrl: SIGNING_PUBLIC_BASE },
    {
      directory: { participantsUrl: spec.participantsUrl, keystoreUrl: spec.keystoreUrl, store: { type: "memory" } },
      messageSigning: { organisationId: spec.bank.organisationId, signingKey: { file: spec.bank.keyFile, kid: spec.bank.kid }, clockSkewSeconds: 300 },
    },
  );
}

/** Runs one of {@link SIGNING_ROLES} in this (child) process until the parent stops it. */
export function runSigningRole(_role: SigningRole, spec: SigningEdgeSpec): Promise<void> {
  return serveRole(() => startEdgeRole(spec, signingEdgeConfig(spec)));
}
