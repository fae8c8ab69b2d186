import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { EdgeError } from "../errors.js";
import type { EdgeEnv } from "./context.js";

export const INTERACTION_ID = "x-fapi-interaction-id";

/** OFB API contract (accounts 2.4.2): UUID pattern, at most 36 characters. Any case: the OIDF suite mixes cases. */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Reads the request's interaction id. Returns the value to echo (verbatim, never case-normalised: FAPI 1
 * Part 1 §6.2.1; the OIDF suite's CreateRandomFAPIInteractionId sends mixed case and EnsureMatchingFAPIInteractionId
 * compares) and whether the request's own value was valid. A repeated
 * header arrives joined with ", " and is therefore invalid: an ambiguous id fails closed.
 */
export function readInteractionId(value: string | string[] | undefined, generate: () => string = randomUUID): { id: string; valid: boolean } {
  if (typeof value === "string" && UUID.test(value)) return { id: value, valid: true };
  return { id: generate(), valid: false };
}

/**
 * Stage: the request's `x-fapi-interaction-id`. Per route (docs/architecture.md, decision D1): `require` answers 400
 * with a newly generated id when it is missing or invalid (OFB API contract); `generate` makes one and serves the
 * request (FAPI 1 Part 1 §6.2.1). Either way the id is echoed on the response and forwarded.
 */
export function interactionId(): MiddlewareHandler<EdgeEnv> {
  return async function interactionId(c, next) {
    const { id, valid } = readInteractionId(c.env.incoming.headers[INTERACTION_ID]);
    c.set("interactionId", id);
    if (!valid && c.get("route")?.config.interactionId !== "generate") {
      throw new EdgeError("INTERACTION_ID_INVALID", "http", "x-fapi-interaction-id must be present, once, as a UUID (RFC 4122); a new one was generated for this response");
    }
    await next();
  };
}
