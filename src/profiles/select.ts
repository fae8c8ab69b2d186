import type { RouteConfig } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import type { CompiledProfile, ProfileInput } from "./engine.js";
import type { LoadedProfiles } from "./load.js";

/** The profiles a route forwards with, and the per-organisation overrides. */
export interface RouteProfiles {
  readonly standard: readonly CompiledProfile[];
  readonly byOrganisation: ReadonlyMap<string, readonly CompiledProfile[]>;
}

/**
 * Resolves a route's profile names (docs/architecture.md §Header profiles: per route, optional override per calling
 * organisation). Unknown names and two profiles of one list that set the same field are configuration
 * errors naming the route's key.
 */
export function routeProfiles(route: RouteConfig, index: number, loaded: LoadedProfiles, configFile: string): RouteProfiles {
  const resolveList = (names: readonly string[], path: string): CompiledProfile[] => {
    const issues: { path: string; message: string }[] = [];
    const list = names.flatMap((n, j) => {
      const p = loaded.byName.get(n);
      if (!p) issues.push({ path: `${path}[${j}]`, message: `no profile named '${n}' (known: ${[...loaded.byName.keys()].join(", ")})` });
      return p ? [p] : [];
    });
    const owner = new Map<string, string>();
    for (const p of list)
      for (const h of p.headerNames) {
        const other = owner.get(h);
        if (other !== undefined && other !== p.name) issues.push({ path, message: `profiles '${other}' and '${p.name}' both set ${h}` });
        owner.set(h, p.name);
      }
    if (issues.length > 0) throw new ConfigError(configFile, issues);
    return list;
  };
  const base = `routes[${index}]`;
  return {
    standard: resolveList(route.profiles, `${base}.profiles`),
    byOrganisation: new Map(Object.entries(route.profilesByOrganisation ?? {}).map(([org, names]) => [org.toLowerCase(), resolveList(names, `${base}.profilesByOrganisation.${org}`)])),
  };
}

/** The header fields the route's profiles send for this request, as a flat `[name, value, …]` list. */
export function profileHeaders(profiles: RouteProfiles, input: ProfileInput): string[] {
  const org = input.client?.identity.organisationId;
  const list = (org !== undefined && profiles.byOrganisation.size > 0 ? profiles.byOrganisation.get(org.toLowerCase()) : undefined) ?? profiles.standard;
  const out: string[] = [];
  for (const p of list) p.emit(input, out);
  return out;
}
