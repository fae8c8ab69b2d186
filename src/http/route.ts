import type { MiddlewareHandler } from "hono";
import type { RouteConfig } from "../config/schema.js";
import { EdgeError } from "../errors.js";
import type { SigningMode } from "../messages/signing-routes.js";
import type { RouteProfiles } from "../profiles/select.js";
import type { Upstream } from "../proxy/upstream.js";
import type { EdgeEnv } from "./context.js";

/** A configured route with its upstream pool. */
export interface Route {
  readonly config: RouteConfig;
  readonly upstream: Upstream;
  /** Whether the participant stage checks the Directory on this route (resolved from config at start-up). */
  readonly participant: "check" | "off";
  /** Whether the token stage checks access tokens on this route, and the scopes it requires (resolved at start-up). */
  readonly binding: { readonly mode: "enforce" | "report" | "off"; readonly scopes: readonly string[] };
  /** The header profiles that forward the verified identity (resolved at start-up). */
  readonly profiles: RouteProfiles;
  /** Whether the traffic limits apply on this route (resolved at start-up: enforce by default when `limits` is configured). */
  readonly limits: "enforce" | "off";
  /**
   * Signed messages on this route (resolved at start-up): the mode for a request path (the route's own, or the
   * built-in table's), and what a message's `aud` must start with (the route's or the listener's publicBaseUrl).
   */
  readonly messageSigning: { readonly mode: (path: string) => SigningMode; readonly publicBaseUrl: string | null };
}

/**
 * Why a request target is refused, or null. Prefix routing is only sound on paths every hop reads the same
 * way, so dot-segments, encoded slashes/backslashes/dots, empty segments, fragments and control characters are
 * rejected rather than normalised (the backend might normalise differently: path confusion).
 */
export function requestTargetProblem(target: string): string | null {
  if (target.charCodeAt(0) !== 0x2f) return "only origin-form request targets are accepted";
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  if (/[\u0000-\u0020\u007f\\]/.test(target)) return "control characters, spaces or backslashes in the request target";
  // RFC 9112 §3.2: a fragment is never part of a request target; a backend might route on the part before it.
  if (target.includes("#")) return "a fragment ('#') is not part of a request target (RFC 9112 §3.2)";
  if (/%(2e|2f|5c|00)/i.test(path)) return "percent-encoded '.', '/', '\\' or NUL in the path";
  if (path.includes("//")) return "empty path segment";
  for (const seg of path.split("/")) if (seg === "." || seg === "..") return "dot-segment in the path";
  return null;
}

/** Longest-prefix route matching; a prefix matches at a segment boundary (or ends with `/`). */
export function createRouter(routes: readonly Route[]): (path: string) => Route | undefined {
  const sorted = [...routes].sort((a, b) => b.config.pathPrefix.length - a.config.pathPrefix.length);
  return (path) =>
    sorted.find(({ config: { pathPrefix: p } }) => path === p || (path.startsWith(p) && (p.endsWith("/") || path.charCodeAt(p.length) === 0x2f)));
}

/** Stage: validate the request target and pick the route by longest prefix. */
export function selectRoute(routes: readonly Route[]): MiddlewareHandler<EdgeEnv> {
  const match = createRouter(routes);
  return async function selectRoute(c, next) {
    const target = c.env.incoming.url ?? "/";
    const problem = requestTargetProblem(target);
    if (problem) throw new EdgeError("REQUEST_PATH_INVALID", "http", problem);
    const q = target.indexOf("?");
    const route = match(q < 0 ? target : target.slice(0, q));
    if (!route) throw new EdgeError("ROUTE_NOT_FOUND", "http", "no route matches this path");
    c.set("route", route);
    await next();
  };
}
