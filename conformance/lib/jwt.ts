import type { ScenarioContext } from "../../src/conformance/context.js";

// Shared by the token scenarios (conformance/scenarios/token) that alter a genuine token.

/** The three parts of a compact JWS; skips the scenario when the supplied token is not one (e.g. an opaque token). */
export function jwsParts(t: ScenarioContext, token: string): { header: string; payload: string; signature: string } {
  const jws = /^([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(token);
  if (jws === null) t.skipScenario("the supplied access token is not a signed JWT");
  return { header: jws[1]!, payload: jws[2]!, signature: jws[3]! };
}
