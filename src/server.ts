import { X509Certificate } from "node:crypto";
import type { AddressInfo, Server as NetServer } from "node:net";
import type { Server as HttpServer } from "node:http";
import type { Server } from "node:https";
import { createApp } from "./app.js";
import { createAdminServer } from "./http/admin.js";
import { listen } from "./http/listen.js";
import { terminatesTls, type Config } from "./config/schema.js";
import { createPeerEvaluator } from "./connection/peer-state.js";
import { openDirectoryStore } from "./directory/open.js";
import { createDirectoryService, type DirectoryService } from "./directory/service.js";
import { createTokenVerifier, type TokenVerifier } from "./binding/verifier.js";
import { createIdentityAssertionSigner, type IdentityAssertionSigner } from "./profiles/assertion.js";
import { createForwardedPeer } from "./connection/forwarded.js";
import { registerOperationalMetrics, type ClientWatch } from "./metrics/operational.js";
import { openRedisDenyList, type DenyList } from "./deny/deny-list.js";
import { openRevocationService } from "./revocation/open.js";
import { redisTargetFor } from "./redis/config.js";
import { REVOCATION_OFF, type RevocationService } from "./revocation/service.js";
import { revocationReadiness } from "./revocation/readiness.js";
import { createOutboundDispatcher } from "./net/dispatcher.js";
import { ConfigError } from "./errors.js";
import { loadProfiles, readProfileFile } from "./profiles/load.js";
import { routeProfiles } from "./profiles/select.js";
import { createStripPredicate } from "./proxy/sanitize.js";
import type { Route } from "./http/route.js";
import type { Logger } from "./log/logger.js";
import type { EdgeMetrics } from "./metrics/registry.js";
import type { TrustAnchors } from "./pki/anchors.js";
import { createChainPolicy } from "./pki/policy.js";
import { normalizeFingerprint } from "./pki/thumbprint.js";
import { createUpstreams } from "./proxy/upstream.js";
import { createListener } from "./tls/listener.js";
import { createPassthroughMetrics, createPassthroughServer, type PassthroughServer } from "./tls/passthrough.js";
import { readTlsMaterial, readTransportRoots } from "./tls/material.js";
import { secureContextOptions } from "./tls/profile.js";
import { peerState } from "./tls/peer.js";
import { createKeystore, type Keystore } from "./directory/keystore.js";
import { createResponseSigner, type ResponseSigner } from "./messages/response-signer.js";
import { signingModeFor } from "./messages/signing-routes.js";
import { limitsMode, messageRuleDeps, messageRulesReadiness, openMessageRuleStores, type MessageRuleStores } from "./message-rules.js";

export interface EdgeDeps {
  readonly logger: Logger;
  readonly metrics: EdgeMetrics;
  /** The injected clock: certificate validity and error timestamps. */
  readonly clock: () => Date;
  /** Where the configuration came from, for error messages. */
  readonly configFile: string;
  /** `/metrics` text; default this process's registry (cluster workers pass the primary's aggregate). */
  readonly metricsText?: () => Promise<string>;
  /** In a cluster worker: the memory stores (used jtis, idempotency, traffic limits) are the primary's, reached over IPC. */
  readonly inClusterWorker?: boolean;
}

export interface RunningListener<S = Server> {
  readonly name: string;
  readonly server: S;
  readonly port: number;
  readonly host: string;
}

export interface RunningEdge {
  readonly listeners: readonly RunningListener[];
  /** Listeners in mode passthrough (SNI-routed TCP, TLS not terminated). */
  readonly passthrough: readonly RunningListener<PassthroughServer>[];
  /** The admin listener's port, when configured. */
  readonly adminPort: number | null;
  /** The Directory stage, when configured (readiness, CLI, tests). */
  readonly directory: DirectoryService | null;
  /** The token stage's verifier, when an authorization server is configured (tests, CLI). */
  readonly tokens: TokenVerifier | null;
  /** The revocation stage (REVOCATION_OFF when `revocation.mode` is off): state for tests, CLI and the conformance stack. */
  readonly revocation: RevocationService;
  /**
   * Stops accepting connections and lets requests in flight finish for up to `drainTimeoutMs`, then closes every
   * connection left, the upstream pools, and every timer, subscription and socket of the stages (Directory sync,
   * Redis, token verifier, revocation, outbound client), each bounded in time: it settles within about
   * `drainTimeoutMs` whatever clients, backends or Redis do.
   */
  close(): Promise<void>;
  /**
   * The shutdown an orchestrator asks for (SIGTERM): `/readyz` answers 503 at once while the listeners keep accepting
   * and serving for `drainDelayMs`, each response closing its connection, so that load balancers stop sending and
   * keep-alive clients reconnect elsewhere; then {@link close}'s drain. Settles within about `drainTimeoutMs` of the
   * call, the delay included.
   */
  shutdown(): Promise<void>;
  /** Applies a new configuration without dropping connections; rejects (running configuration kept) on any error. */
  reload(config: Config): Promise<void>;
}

/**
 * Builds every listener of a validated configuration and starts listening. All files are read and checked
 * before the first port is opened, so a bad file never leaves a half-started edge.
 */
export async function startEdge(config: Config, deps: EdgeDeps): Promise<RunningEdge> {
  const now = () => deps.clock().getTime();
  // The edge's one outbound HTTP client (Directory, keystore, CRLs, OCSP), closed with the edge.
  const outbound = createOutboundDispatcher();
  // Restart-only parts (their connections and caches outlive a reload): assertion key, token verifier, Directory,
  // deny list, revocation. Everything that reads files comes first, so a bad file leaves no connection open.
  const assertion = config.identityAssertion ? createIdentityAssertionSigner(config.identityAssertion, { now, configFile: deps.configFile }) : null;
  let generation = buildGeneration(config, deps, assertion);
  const as = config.authorizationServer;
  const verifier: TokenVerifier | null = as ? createTokenVerifier(as, { now, configFile: deps.configFile }) : null;
  const tokens = as && verifier ? { verifier, realm: as.realm, maxTokenLength: as.maxTokenLength } : null;
  let directory: DirectoryService | null = null;
  try {
    if (config.directory) directory = createDirectoryService({ config: config.directory, store: await openDirectoryStore(config.directory, { logger: deps.logger, now, redis: config.redis }), logger: deps.logger, now, dispatcher: outbound });
  } catch (cause) {
    await outbound.close();
    await verifier?.close();
    await generation.upstreams.close();
    throw cause;
  }
  let deny: DenyList | null = null;
  let revocation: RevocationService = REVOCATION_OFF;
  // The message-level rules' stores outlive reloads, like the deny list.
  let rules: MessageRuleStores;
  try {
    rules = await openMessageRuleStores(config, { inClusterWorker: deps.inClusterWorker ?? false, logger: deps.logger, metrics: deps.metrics, now });
  } catch (cause) {
    await outbound.close();
    await directory?.close();
    await verifier?.close();
    await generation.upstreams.close();
    throw cause;
  }
  try {
    if (config.denyList) deny = await openRedisDenyList({ redis: redisTargetFor(config.redis, config.denyList, "denyList"), keyPrefix: config.denyList.keyPrefix, connectTimeoutMs: config.denyList.connectTimeoutMs, logger: deps.logger });
    // One service for every listener: the union of their anchors (roots) bounds where chains stop; an AC of the
    // trust-anchor files (what `trust fetch` writes next to the root) is checked against its root's CRL like any
    // other, that CRL is fetched at start, and each AC is reported from the start as covered or pending.
    revocation = await openRevocationService(config.revocation, { anchors: generation.allAnchors, issuers: generation.bundleIssuers, logger: deps.logger, now, dispatcher: outbound }, config.redis);
  } catch (cause) {
    await outbound.close();
    await Promise.all(rules.close());
    await deny?.close();
    await directory?.close();
    await verifier?.close();
    await generation.upstreams.close();
    throw cause;
  }
  const watch = registerOperationalMetrics(deps.metrics, {
    directory,
    tokens: verifier,
    revocation,
    deny,
    listeners: generation.prepared.map((p) => ({ name: p.config.name, certPem: p.material.cert, anchors: p.anchors.certs })),
    expiryWarningDays: config.admin?.expiryWarningDays ?? 30,
    now,
    logger: deps.logger,
  });
  // CRLs known before any client arrives load while the Directory syncs; listening waits for both (bounded).
  const revocationStarted = revocation.start();
  // The callers' signing keys (`<org>/application.jwks`), read like the transport keys and cached in the Directory store.
  const messageKeys =
    config.messageSigning && config.directory && directory
      ? createKeystore({ baseUrl: config.directory.keystoreUrl, cache: directory.store, ...config.directory.keystore, now, dispatcher: outbound })
      : null;
  const shared = { directory, verifier, tokens, deny, assertion, watch, revocation, rules, messageKeys };
  let apps = generation.apps(shared);

  const servers = generation.prepared.map(({ config: l, material }) => {
    const { app, tlsPeer } = apps.get(l.name)!;
    const listener = createListener({ config: l, material, app, peer: tlsPeer, clock: deps.clock, logger: deps.logger, metrics: deps.metrics, revocation });
    return { l, server: listener.server, swap: listener.swap, stopKeepAlive: listener.stopKeepAlive, close: listener.close };
  });
  let drainTimeoutMs = config.drainTimeoutMs;
  let drainDelayMs = config.drainDelayMs;
  /** Set when shutdown begins: from then on the edge is not ready, whatever else holds. */
  let stopping = false;
  const passthroughMetrics = createPassthroughMetrics(deps.metrics.registry);
  const passthroughServers = config.listeners.flatMap((l) =>
    l.mode === "passthrough" ? [{ l, server: createPassthroughServer({ name: l.name, config: l.passthrough, logger: deps.logger, metrics: passthroughMetrics }) }] : [],
  );

  /**
   * Hot reload (SIGHUP, file change): builds a complete new generation — TLS material, trust anchors, profiles,
   * routes, upstream pools — and only then swaps it in (`setSecureContext`, new app); open connections keep
   * their verified peer state and finish their requests. Any error leaves the running configuration in place.
   */
  async function reload(next: Config): Promise<void> {
    const restartOnly = (["listeners", "directory", "authorizationServer", "denyList", "redis", "identityAssertion", "admin", "workers", "revocation", "idempotency", "limits"] as const).filter((key) =>
      key === "listeners"
        ? JSON.stringify(next.listeners.map(restartOnlyListenerFields)) !== JSON.stringify(config.listeners.map(restartOnlyListenerFields))
        : // Of the message-level rules only the store is restart-only (a section added or removed brings or drops one).
          key === "idempotency" || key === "limits"
          ? JSON.stringify(next[key]?.store ?? null) !== JSON.stringify(config[key]?.store ?? null)
          : JSON.stringify(next[key]) !== JSON.stringify(config[key]),
    );
    // The jti replay store (and the keystore client behind message signing) live as long as the edge; the rest of the
    // messageSigning section — algorithms, skew, the signing key and its file — is applied on reload.
    const signingSection = (c: Config) => JSON.stringify(c.messageSigning === undefined ? null : c.messageSigning.replayStore);
    const restartPaths: string[] = [
      ...restartOnly.map((key) => (key === "idempotency" || key === "limits" ? `${key}.store` : key)),
      ...(signingSection(next) !== signingSection(config) ? ["messageSigning.replayStore"] : []),
    ];
    if (restartPaths.length > 0) throw new ConfigError(deps.configFile, restartPaths.map((key) => ({ path: key, message: "changed; this part of the configuration takes effect on restart, not on reload" })));
    const fresh = buildGeneration(next, deps, assertion);
    let freshApps;
    try {
      freshApps = fresh.apps(shared);
    } catch (cause) {
      await fresh.upstreams.close();
      throw cause;
    }
    const old = generation;
    generation = fresh;
    apps = freshApps;
    drainTimeoutMs = next.drainTimeoutMs;
    drainDelayMs = next.drainDelayMs;
    for (const { l, server, swap } of servers) {
      const p = fresh.prepared.find((x) => x.config.name === l.name)!;
      server.setSecureContext(secureContextOptions(p.material));
      const { app, tlsPeer } = apps.get(l.name)!;
      swap(app, tlsPeer);
    }
    for (const { l, server } of passthroughServers) {
      const p = next.listeners.find((x) => x.name === l.name);
      if (p?.mode === "passthrough") server.reconfigure(p.passthrough);
    }
    // undici's close waits for requests in flight on the old pools.
    void old.upstreams.close();
  }

  const listeners: RunningListener[] = [];
  const passthrough: RunningListener<PassthroughServer>[] = [];
  const admin = config.admin
    ? createAdminServer({
        directory,
        identityAssertion: assertion,
        readiness: () => ({
          ...(stopping && { shutdown: "shutting down: stop sending new connections" }),
          trustAnchors: generation.prepared.every((p) => p.anchors.certs.length > 0) ? null : "a listener has no trust anchors loaded",
          ...(deny && { denyList: deny.reachable() ? null : "the deny list's Redis is unreachable (the last list read still applies)" }),
          ...(config.revocation.mode === "crl" && { revocation: revocationReadiness(revocation, config.revocation.onStale) }),
          ...messageRulesReadiness(rules, generation.onStoreError),
        }),
        metrics: deps.metricsText ?? (() => deps.metrics.registry.metrics()), metricsContentType: deps.metrics.registry.contentType })
    : null;
  try {
    if (directory) {
      // A snapshot another replica published is good to serve at once; without one, wait for the first sync
      // (bounded by directory.fetchTimeoutMs) so the edge does not start by answering 503. Either way the
      // periodic refresh runs from here on.
      const known = await directory.store.refreshCurrent();
      directory.start();
      if (!known) await directory.syncOnce();
    }
    await revocationStarted;
    for (const { l, server } of servers) listeners.push(await listenOn(l, server, deps.logger));
    for (const { l, server } of passthroughServers) passthrough.push(await listenOn(l, server, deps.logger));
    if (admin) {
      await listen(admin, config.admin!.port, config.admin!.host, "admin listener");
    }
  } catch (cause) {
    await Promise.all([...[...listeners, ...passthrough].map((x) => closeServer(x.server)), ...(admin?.listening ? [closeServer(admin)] : [])]);
    await generation.upstreams.close();
    await directory?.close();
    await verifier?.close();
    await deny?.close();
    await revocation.close();
    await Promise.all(rules.close());
    await outbound.close();
    throw cause;
  }

  /**
   * The drain, ending by `end` (epoch ms): connections drain until shortly before it, and the stages close in what is
   * left (Redis QUIT, a download aborted). The admin listener closes last, so that until the listeners are done
   * `/readyz` keeps saying 503 and `/healthz` 200 (a liveness probe must not kill a draining process).
   */
  async function closeBy(end: number): Promise<void> {
    stopping = true;
    const drained = end - Math.min(CLOSE_RESERVE_MS, drainTimeoutMs / 4);
    // A tunnel has no request boundary to drain at: its client reconnects, as through any L4 proxy restart.
    for (const x of passthrough) x.server.closeAllConnections();
    await Promise.all([...servers.map((x) => x.close(drained)), ...passthrough.map((x) => closeServer(x.server, drained))]);
    if (admin) await closeServer(admin, drained);
    // Every client connection is closed: what is still in flight upstream has no one to answer.
    const upstreams = generation.upstreams;
    const [pools] = await Promise.all(
      [upstreams.close(), directory?.close(), verifier?.close(), deny?.close(), revocation.close(), ...rules.close()].map((p) => settleBy(p, end)),
    );
    if (!pools) await upstreams.destroy();
    if (!(await settleBy(outbound.close(), end))) await outbound.destroy();
  }

  return {
    listeners,
    passthrough,
    directory,
    tokens: verifier,
    revocation,
    adminPort: admin ? (admin.address() as AddressInfo).port : null,
    close: () => closeBy(Date.now() + drainTimeoutMs),
    shutdown: async () => {
      const end = Date.now() + drainTimeoutMs;
      stopping = true;
      for (const x of servers) x.stopKeepAlive();
      deps.logger.info({ kind: "lifecycle", event: "drain-delay", drainDelayMs, drainTimeoutMs }, "not ready; still serving while load balancers stop sending");
      await new Promise((resolve) => setTimeout(resolve, Math.min(drainDelayMs, Math.max(0, end - Date.now()))));
      await closeBy(end);
    },
    reload,
  };
}

interface SharedStages {
  readonly directory: DirectoryService | null;
  readonly verifier: TokenVerifier | null;
  readonly tokens: { readonly verifier: TokenVerifier; readonly realm: string | undefined; readonly maxTokenLength: number } | null;
  readonly deny: DenyList | null;
  readonly assertion: IdentityAssertionSigner | null;
  readonly watch: ClientWatch;
  readonly revocation: RevocationService;
  /** The message-level rules' stores (restart-only). */
  readonly rules: MessageRuleStores;
  /** The callers' signing keys (the Directory keystore's `<org>/application.jwks`); null without signed messages. */
  readonly messageKeys: Keystore | null;
}

/**
 * Everything a reload replaces, read and checked before anything is used: every listener's TLS material and
 * trust anchors, the header profiles and each route's selection, and the upstream pools. `apps` then builds
 * each listener's pipeline on the shared, restart-only stages.
 */
function buildGeneration(config: Config, deps: EdgeDeps, assertion: IdentityAssertionSigner | null) {
  const transportRoots = readTransportRoots(config.policy.transportRoots, deps.configFile);
  const prepared = config.listeners.flatMap((l, i) => (terminatesTls(l) ? [{ config: l, index: i, ...readTlsMaterial(l, i, deps.configFile, transportRoots) }] : []));
  const roots = new Map(prepared.flatMap((p) => p.anchors.roots).map((c) => [c.sha256, c]));
  /** Every listener's anchors (roots), for the services shared by all listeners. */
  const allAnchors: TrustAnchors = {
    pem: [...roots.values()].map((c) => new X509Certificate(c.der).toString()),
    certs: [...roots.values()],
    roots: [...roots.values()],
    issuers: [],
    bySha256: roots,
  };
  /** Every listener's allowed issuers (the ACs of its trust-anchor files), deduplicated. */
  const bundleIssuers = [...new Map(prepared.flatMap((p) => p.anchors.issuers).map((c) => [c.sha256, c])).values()];
  const loadedProfiles = loadProfiles({ files: config.headerProfiles?.files ?? [] });
  const profilesByRoute = new Map(config.routes.map((r, i) => [r.name, routeProfiles(r, i, loadedProfiles, deps.configFile)]));
  const inputProfile = (name: string, index: number) => {
    const file = loadedProfiles.sources.get(name);
    if (file === undefined) throw new ConfigError(deps.configFile, [{ path: `listeners[${index}].trustedProxy.profile`, message: `no profile named '${name}'` }]);
    return readProfileFile(file);
  };
  const strip = createStripPredicate(new Set([...loadedProfiles.headerNames, ...(assertion ? [assertion.header] : [])]));
  const upstreams = createUpstreams(config.routes, config.proxy);
  // Re-read on every reload: a replaced signing key file takes effect with the next configuration.
  let signer: ResponseSigner | null;
  try {
    signer = config.messageSigning ? createResponseSigner(config.messageSigning, { now: () => deps.clock().getTime(), configFile: deps.configFile }) : null;
  } catch (cause) {
    void upstreams.close();
    throw cause;
  }
  const signingDefault = config.messageSigning ? (signer ? "verify-and-sign" : "verify") : null;
  const routesByName = new Map(config.routes.map((r) => [r.name, r]));
  const directoryRoles = {
    roleByFamily: config.directory?.roleByFamily ?? {},
    defaultRole: config.directory?.defaultRole ?? "DADOS",
    reuseMs: config.directory?.connectionRecheckMs ?? 60_000,
  };
  const apps = (shared: SharedStages) =>
    new Map(
      prepared.map(({ config: l, anchors, index: li }) => {
        const policy = createChainPolicy({
          anchors,
          transportRoots,
          minRsaBits: config.policy.minRsaBits,
          allowedIssuers: config.policy.allowedIssuers ? new Set(config.policy.allowedIssuers.map(normalizeFingerprint)) : undefined,
          requireIntermediate: config.policy.requireIntermediate,
          now: () => deps.clock().getTime(),
        });
        const evaluator = createPeerEvaluator({ evaluateChain: policy, allowOpenInsurance: config.policy.allowOpenInsurance, cnpj: config.policy.cnpj });
        const tlsPeer = (socket: object) => peerState(socket, evaluator.evaluate);
        const forwarded = l.trustedProxy
          ? createForwardedPeer({
              profile: inputProfile(l.trustedProxy.profile, li),
              sources: l.trustedProxy.sources,
              trustVerifiedPeers: l.trustedProxy.clientTrustAnchors !== undefined,
              anchors,
              evaluate: evaluator.evaluate,
              configFile: deps.configFile,
              at: `listeners[${li}].trustedProxy`,
            })
          : null;
        const peer = forwarded ?? ((_incoming: unknown, socket: object) => tlsPeer(socket));
        const routes: Route[] = (l.routes ?? config.routes.map((r) => r.name)).map((name) => ({
          config: routesByName.get(name)!,
          upstream: upstreams.byRoute.get(name)!,
          participant: participantMode(routesByName.get(name)!, shared.directory !== null),
          binding: { mode: bindingMode(routesByName.get(name)!, shared.verifier !== null), scopes: routesByName.get(name)!.scopes ?? [] },
          profiles: profilesByRoute.get(name)!,
          limits: limitsMode(routesByName.get(name)!, shared.rules.limiter !== null),
          messageSigning: {
            mode: (path: string) => signingModeFor(routesByName.get(name)!.messageSigning, path, signingDefault),
            publicBaseUrl: routesByName.get(name)!.publicBaseUrl ?? l.publicBaseUrl ?? null,
          },
        }));
        const app = createApp({
          listener: l.name,
          routes,
          peer,
          clock: deps.clock,
          logger: deps.logger,
          metrics: deps.metrics,
          proxy: config.proxy,
          directory: shared.directory,
          directoryRoles,
          tokens: shared.tokens,
          strip,
          assertion: shared.assertion,
          deny: shared.deny,
          watch: shared.watch,
          revocation: shared.revocation,
          ...messageRuleDeps(config, shared.rules, shared.messageKeys, signer, { metrics: deps.metrics, logger: deps.logger, now: () => deps.clock().getTime() }),
        });
        return [l.name, { app, tlsPeer }] as const;
      }),
    );
  return { prepared, allAnchors, bundleIssuers, upstreams, apps, onStoreError: config.limits?.onStoreError ?? "open" };
}

/** Routes on which the participant stage runs: explicit per route, else on mTLS-required routes when a Directory is configured. */
function participantMode(route: Config["routes"][number], directoryConfigured: boolean): "check" | "off" {
  if (route.participant) return route.participant;
  return directoryConfigured && route.mtls === "required" ? "check" : "off";
}

/** Routes on which the token stage runs: explicit per route, else enforce on mTLS-required routes when an authorization server is configured. */
function bindingMode(route: Config["routes"][number], configured: boolean): "enforce" | "report" | "off" {
  if (route.binding) return route.binding;
  return configured && route.mtls === "required" ? "enforce" : "off";
}

/** Starts listening; a port in use or a bad address rejects with the listener named. */
async function listenOn<S extends NetServer>(l: Config["listeners"][number], server: S, logger: Logger): Promise<RunningListener<S>> {
  const port = await listen(server, l.port, l.host, `listener '${l.name}'`);
  logger.info({ kind: "lifecycle", listener: l.name, host: l.host, port, mode: l.mode }, "listening");
  return { name: l.name, server, host: l.host, port };
}

/** What a reload cannot change on a listener (a passthrough section's routes and time-outs it can). */
function restartOnlyListenerFields(l: Config["listeners"][number]): unknown[] {
  return terminatesTls(l) ? [l.name, l.host, l.port, l.mode, l.routes, l.trustedProxy, l.http.protocols, l.http.http2] : [l.name, l.host, l.port, l.mode];
}

/** What shutdown keeps of drainTimeoutMs (at most a quarter of it) for closing the stages after the connections. */
const CLOSE_RESERVE_MS = 2_000;

/** Closes a server: idle connections at once, the rest when done or at `deadline` (epoch ms), whichever is first. */
function closeServer(server: Server | HttpServer | PassthroughServer, deadline = Number.POSITIVE_INFINITY): Promise<void> {
  return new Promise((resolve) => {
    const timer = Number.isFinite(deadline) ? setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now())) : undefined;
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** Whether `promise` settled by `deadline` (epoch ms); a rejection counts as settled, and is not rethrown. */
async function settleBy(promise: Promise<unknown> | undefined, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([Promise.resolve(promise).then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
