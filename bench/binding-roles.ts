import type { Config } from "../src/config/schema.js";
import { extendedBenchConfig, serveRole, startEdgeRole, type RoleSpec } from "./roles.js";

/** The child process bench/binding.ts adds to bench/roles.ts's backend. */
export type BindingRole = "binding-edge";
export const BINDING_ROLES: readonly BindingRole[] = ["binding-edge"];

/** An edge with an `authorizationServer` section; only the route's `binding` mode differs between the two. */
export interface BindingEdgeSpec extends RoleSpec {
  /** The authorization-server stub's issuer (discovery and JWK Set are fetched from it on first use). */
  readonly issuer: string;
  readonly binding: "enforce" | "off";
}

/**
 * bench/roles.ts's edge configuration plus the authorization server, with its default settings (PS256, token
 * cache, JWK Set from discovery). Both edges carry the same `authorizationServer` section, so both build a token
 * verifier; `binding` alone differs. No `directory` section: the benchmark isolates the token stage.
 */
export function bindingEdgeConfig(spec: BindingEdgeSpec): Config {
  return extendedBenchConfig(spec, { binding: spec.binding }, { authorizationServer: { issuer: spec.issuer } });
}

/** Runs one of {@link BINDING_ROLES} in this (child) process until the parent stops it. */
export function runBindingRole(_role: BindingRole, spec: BindingEdgeSpec): Promise<void> {
  return serveRole(() => startEdgeRole(spec, bindingEdgeConfig(spec)));
}
