import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Handler } from "hono";
import type { ProxyConfig } from "../config/schema.js";
import { EdgeError, type EdgeErrorCode } from "../errors.js";
import type { EdgeEnv } from "../http/context.js";
import type { EdgeMetrics } from "../metrics/registry.js";
import type { IdentityAssertionSigner } from "../profiles/assertion.js";
import { profileHeaders } from "../profiles/select.js";
import { signingModeOf } from "../messages/signing-stage.js";
import { signingRewrite, type ResponseSigning } from "../messages/signing-response.js";
import { createExchangeMeter, forward } from "./forward.js";

/** What counts as the backend failing (`ofb_edge_upstream_errors_total`): no connection, no answer in time, an answer broken off. */
const UPSTREAM_FAILURES: ReadonlySet<EdgeErrorCode> = new Set(["UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT"]);

/**
 * Final stage: stream the request to the route's upstream with the identity its header profiles produce
 * (docs/architecture.md, decision D9); the response is written straight to the socket. `strip` names every field
 * removed from requests and responses (anti-spoofing: every field any loaded profile can emit, every well-known one).
 */
export function forwardToUpstream(
  proxy: ProxyConfig,
  strip: (lowerName: string) => boolean,
  assertion: IdentityAssertionSigner | null,
  metrics: EdgeMetrics,
  signing: ResponseSigning | null = null,
): Handler<EdgeEnv> {
  const countFailure = (route: string, err: unknown) => {
    if (err instanceof EdgeError && UPSTREAM_FAILURES.has(err.code)) metrics.upstreamErrors.inc({ route, code: err.code });
  };
  return async function forwardToUpstream(c) {
    const route = c.get("route")!;
    const client = c.get("client");
    // A token whose binding failed (report mode) is valid but not this client's: its claims are not forwarded.
    const token = c.get("bindingReport") ? undefined : c.get("token");
    const participant = c.get("participant");
    const identity = profileHeaders(route.profiles, { client, roles: participant?.activeRoles ?? null, token, interactionId: c.get("interactionId"), message: c.get("message") });
    // A verify-and-sign route's response is signed for the calling organisation (the signing stage made sure there is one).
    const signer = signing?.signer;
    const rewrite = signer && client && signingModeOf(c) === "verify-and-sign" ? signingRewrite(route.config.name, client.identity.organisationId, { ...signing, signer }) : undefined;
    if (assertion && client) {
      const jws = await assertion.sign({
        thumbprint: client.thumbprint,
        organisationId: client.identity.organisationId,
        softwareStatementId: client.identity.softwareStatementId,
        cnpj: client.identity.cnpj,
        cnpjVerified: client.identity.cnpjVerified,
        roles: participant?.activeRoles ?? null,
        clientId: token?.clientId ?? null,
        interactionId: c.get("interactionId"),
        audience: route.upstream.origin,
      });
      identity.push(assertion.header, jws);
    }
    const meter = createExchangeMeter();
    c.set("exchange", meter);
    const outcome = await forward({
      meter,
      incoming: c.env.incoming,
      outgoing: c.env.outgoing,
      upstream: route.upstream,
      route: route.config.name,
      interactionId: c.get("interactionId"),
      identityHeaders: identity,
      strip,
      body: c.get("requestBody"),
      maxBodyBytes: proxy.maxRequestBodyBytes,
      maxHeaderBytes: proxy.maxUpstreamHeaderBytes,
      xForwardedFor: proxy.xForwardedFor,
      capture: c.get("responseCapture"),
      ...(rewrite && { rewrite }),
    }).catch((err: unknown) => {
      countFailure(route.config.name, err);
      throw err;
    });
    if (outcome.refused) {
      // The backend's own bare refusal: answered in the OFB format; the access line keeps both statuses.
      c.set("upstreamRefusedWith", outcome.upstreamStatus);
      throw outcome.refused;
    }
    c.set("upstreamStatus", outcome.status);
    if (outcome.failed) countFailure(route.config.name, outcome.failed);
    return RESPONSE_ALREADY_SENT;
  };
}
