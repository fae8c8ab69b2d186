import type { ScenarioContext } from "./context.js";

/** The areas of the suite (issue 7), in report order. */
export const AREAS = ["tls", "certificate", "directory", "token", "headers", "hygiene", "errors", "messages"] as const;
export type Area = (typeof AREAS)[number];

export const AREA_TITLES: Readonly<Record<Area, string>> = {
  tls: "TLS layer",
  certificate: "Client certificate",
  directory: "Participant directory",
  token: "Token binding",
  headers: "FAPI / OFB headers",
  hygiene: "Header hygiene",
  errors: "Error format",
  messages: "Message-level rules (signed messages, idempotency, traffic limits)",
};

/**
 * What a scenario needs besides a reachable edge. The local stack supplies every capability (except
 * `deny-list` without Redis); against a deployment, each comes from a command-line option, and a scenario
 * whose capability is missing is reported as skipped with that option named ({@link CAPABILITY_SOURCES}).
 */
export const CAPABILITIES = [
  "client",
  "token",
  "second-client",
  "test-pki",
  "recorder",
  "token-issuer",
  "introspection",
  "revocation",
  "deny-list",
  "directory-outage",
  "scopes",
  "participant-limit",
  "global-limit",
  "message-signer",
  "bank-keys",
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** How an operator supplies each capability in target mode (shown for skipped scenarios). */
export const CAPABILITY_SOURCES: Readonly<Record<Capability, string>> = {
  client: "--client-cert and --client-key (a participant's certificate the deployment accepts)",
  token: "--token or --token-file (an access token bound to --client-cert)",
  "second-client": "--client2-cert, --client2-key and --token2 (a second accepted participant, legacy OU subject if you have one, and an access token bound to it)",
  "test-pki": "--pki DIR (a test PKI from 'ofb-edge pki init' whose root the deployment trusts and whose directory fixture it uses)",
  recorder:
    "--recorder URL (the control URL of 'ofb-edge conformance recorder' running as the backend of routes with the default header profiles, rfc9440 and ofb-identity)",
  "token-issuer": "--token-issuer-key FILE and --token-issuer ISS (a signing key the deployment's authorization-server configuration trusts)",
  introspection: "the local stack (opaque tokens from its authorization-server stub)",
  revocation: "the local stack (a CRL server listing the test PKI's revoked certificate)",
  "deny-list": "--denied-cert and --denied-key (a certificate on the deployment's deny list); locally, Redis",
  "directory-outage": "the local stack (an edge whose Directory goes away)",
  scopes: "--scoped-path P and --scope S (a route that requires scope S) with --token-issuer-key",
  "participant-limit": "--limited-path P (a route whose per-participant limit a burst of 50 requests from --client-cert exceeds)",
  "global-limit": "--overloaded-path P (a route whose global ceiling per second a burst of 20 concurrent requests exceeds)",
  "message-signer":
    "--signing-key PEM and --signing-kid KID (the message signing key of --client-cert's organisation, as its application.jwks publishes it), with a token; --signed-path P and --public-base-url URL when the signed route or the published URL differ from the defaults",
  "bank-keys": "--bank-jwks FILE and --bank-organisation-id ID (the bank's application.jwks as the Directory publishes it, and its organisation id)",
};

export interface ScenarioDefinition {
  /** Equal to the file name without extension (checked by the loader). */
  readonly id: string;
  readonly area: Area;
  /** What is checked, as a sentence a compliance officer can read. */
  readonly title: string;
  /** Where the expectation comes from: spec sections, upstream test conditions (at least one). */
  readonly origin: readonly string[];
  readonly requires: readonly Capability[];
  /** Throws (through the context's assertions) on failure. */
  run(t: ScenarioContext): Promise<void>;
}

export type Scenario = ScenarioDefinition;

/** Declares a scenario (one per file in `conformance/scenarios/<area>/`). */
export function scenario(definition: ScenarioDefinition): Scenario {
  if (definition.origin.length === 0) throw new Error(`scenario ${definition.id}: origin must cite at least one source`);
  return Object.freeze({ ...definition });
}

/** A failed expectation: the message says what was expected and what was seen. */
export class ConformanceFailure extends Error {
  override readonly name = "ConformanceFailure";
}

/** Thrown by a scenario that finds, at run time, that its prerequisite is missing. */
export class ScenarioSkipped extends Error {
  override readonly name = "ScenarioSkipped";
}
