import type { ErrorSigner } from "../http/error-handler.js";
import type { ResponseSigning } from "./signing-response.js";
import { signingModeOf } from "./signing-stage.js";

/**
 * Signs the errors the edge itself answers on verify-and-sign routes, for the organisation whose certificate made
 * the request (`aud`). A request refused before the edge knows its caller (no route, no valid certificate) gets the
 * plain JSON error: there is no one to address a signed one to.
 */
export function errorSigner(signing: ResponseSigning): ErrorSigner {
  return async (c, body) => {
    const client = c.get("client");
    const route = c.get("route");
    if (!signing.signer || !client || !route || signingModeOf(c) !== "verify-and-sign") return null;
    const jws = await signing.signer.sign(body, client.identity.organisationId);
    signing.metrics.response(route.config.name, "error-signed");
    return jws;
  };
}
