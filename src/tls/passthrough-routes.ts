import type { PassthroughConfig, PassthroughUpstream } from "./passthrough-config.js";

/** The backend a ClientHello goes to, and which rule chose it (`*.bank.example`, `default`), for logs. */
export interface PassthroughRoute {
  readonly upstream: PassthroughUpstream;
  readonly rule: string;
}

/**
 * Builds the SNI lookup of a validated passthrough section: an exact name first, then the wildcard for its
 * leftmost label (a wildcard stands for exactly one label, so at most one can match), then `default`;
 * null means the connection is closed. Names are compared lower-cased (DNS names are case-insensitive).
 */
export function createSniRouter(config: Pick<PassthroughConfig, "routes" | "default">): (sni: string | null) => PassthroughRoute | null {
  const exact = new Map<string, PassthroughRoute>();
  const wildcard = new Map<string, PassthroughRoute>();
  for (const r of config.routes) {
    const pattern = r.sni.toLowerCase();
    const route = { upstream: r.upstream, rule: pattern };
    if (pattern.startsWith("*.")) wildcard.set(pattern.slice(2), route);
    else exact.set(pattern, route);
  }
  const fallback = config.default ? { upstream: config.default, rule: "default" } : null;
  return (sni) => {
    if (sni === null) return fallback;
    const name = sni.toLowerCase();
    const dot = name.indexOf(".");
    return exact.get(name) ?? (dot > 0 ? wildcard.get(name.slice(dot + 1)) : undefined) ?? fallback;
  };
}
