import type { IncomingMessage } from "node:http";
import { Hono } from "hono";
import type { ProxyConfig } from "./config/schema.js";
import type { PeerState } from "./connection/peer-state.js";
import type { TokenVerifier } from "./binding/verifier.js";
import type { DenyList } from "./deny/deny-list.js";
import type { ClientWatch } from "./metrics/operational.js";
import type { RevocationService } from "./revocation/service.js";
import type { IdentityAssertionSigner } from "./profiles/assertion.js";
import { accessLog } from "./http/access-log.js";
import { tokenBinding } from "./http/binding.js";
import { clientCertificate } from "./http/client-certificate.js";
import type { EdgeEnv } from "./http/context.js";
import { errorHandler } from "./http/error-handler.js";
import { interactionId } from "./http/interaction-id.js";
import { participantCheck } from "./http/participant.js";
import type { DirectoryService } from "./directory/service.js";
import { selectRoute, type Route } from "./http/route.js";
import type { Logger } from "./log/logger.js";
import type { EdgeMetrics } from "./metrics/registry.js";
import { forwardToUpstream } from "./proxy/handler.js";
import { idempotency } from "./http/idempotency.js";
import { trafficLimits } from "./http/limits.js";
import type { IdempotencyConfig } from "./idempotency/config.js";
import type { IdempotencyMetrics } from "./idempotency/metrics.js";
import type { IdempotencyStore } from "./idempotency/store.js";
import type { LimitsMetrics } from "./limits/metrics.js";
import type { TrafficLimits } from "./limits/traffic-limits.js";
import { errorSigner } from "./messages/signing-errors.js";
import type { ResponseSigning } from "./messages/signing-response.js";
import { messageSigningStage, type MessageSigningStageOptions } from "./messages/signing-stage.js";

export interface AppDeps {
  readonly listener: string;
  readonly routes: readonly Route[];
  /**
   * The request's peer state: the connection's (computed once per TLS connection, see tls/peer.ts), or on a
   * trusted-proxy listener the certificate the terminator forwarded (connection/forwarded.ts).
   */
  readonly peer: (incoming: IncomingMessage, socket: object) => PeerState;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: EdgeMetrics;
  readonly proxy: ProxyConfig;
  /** The Directory stage; null when no `directory` is configured. */
  readonly directory: DirectoryService | null;
  readonly directoryRoles: { readonly roleByFamily: Readonly<Record<string, string>>; readonly defaultRole: string; readonly reuseMs: number };
  /** The token stage; null when no `authorizationServer` is configured. */
  readonly tokens: { readonly verifier: TokenVerifier; readonly realm: string | undefined; readonly maxTokenLength: number } | null;
  /** Fields stripped from every request and response (anti-spoofing, docs/architecture.md §Header profiles). */
  readonly strip: (lowerName: string) => boolean;
  /** CRL checks (REVOCATION_OFF when `revocation.mode` is off). */
  readonly revocation: RevocationService;
  /** Operational metrics about clients seen. */
  readonly watch: ClientWatch;
  /** The instant deny list, when configured. */
  readonly deny: DenyList | null;
  /** Signs the identity assertion header, when configured. */
  readonly assertion: IdentityAssertionSigner | null;
  /** The idempotency stage's store and settings, when an `idempotency` section is configured. */
  readonly idempotency: { readonly store: IdempotencyStore; readonly config: IdempotencyConfig; readonly metrics: IdempotencyMetrics } | null;
  /** The traffic limits of this configuration, when a `limits` section is configured. */
  readonly limits: { readonly limits: TrafficLimits; readonly metrics: LimitsMetrics } | null;
  /** Signed messages: the request stage and response signing; null without a `messageSigning` section. */
  readonly messages: { readonly stage: MessageSigningStageOptions; readonly signing: ResponseSigning } | null;
}

/** The request pipeline, one line per stage, in order (docs/architecture.md §Pipeline). */
export function createApp(deps: AppDeps): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.use(accessLog({ logger: deps.logger, metrics: deps.metrics, listener: deps.listener, peer: deps.peer }));
  app.use(selectRoute(deps.routes));
  app.use(clientCertificate({ peer: deps.peer, now: () => deps.clock().getTime(), deny: deps.deny, watch: deps.watch, revocation: deps.revocation }));
  // As soon as the organisation is known (the certificate stage) and before the costly stages (http/limits.ts).
  if (deps.limits) app.use(trafficLimits({ limits: deps.limits.limits, metrics: deps.limits.metrics, logger: deps.logger }));
  app.use(interactionId());
  app.use(participantCheck({ directory: deps.directory, ...deps.directoryRoles, now: () => deps.clock().getTime() }));
  app.use(
    tokenBinding({
      verifier: deps.tokens?.verifier ?? null,
      realm: deps.tokens?.realm,
      maxTokenLength: deps.tokens?.maxTokenLength ?? 4096,
      maxBodyBytes: deps.proxy.maxRequestBodyBytes,
      logger: deps.logger,
      metrics: deps.metrics,
    }),
  );
  // Order: the signed message comes after the certificate and token checks (payments 4.0.0 items 2.1.1–2.1.4) and
  // before idempotency (a request whose signature fails is not an attempt at the operation; OFB: signature checks
  // precede idempotency checks), right before the backend.
  if (deps.messages) app.use(messageSigningStage(deps.messages.stage));
  if (deps.idempotency) app.use(idempotency({ ...deps.idempotency, maxBodyBytes: deps.proxy.maxRequestBodyBytes, logger: deps.logger }));
  app.all("*", forwardToUpstream(deps.proxy, deps.strip, deps.assertion, deps.metrics, deps.messages?.signing ?? null));
  app.onError(errorHandler({ logger: deps.logger, clock: deps.clock, realm: deps.tokens?.realm, sign: deps.messages ? errorSigner(deps.messages.signing) : undefined }));
  return app;
}
