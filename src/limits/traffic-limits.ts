import type { RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";
import { apiFamily } from "../directory/check.js";
import type { LimiterBackend } from "./backend.js";
import type { LimitsConfig, LimitWindow } from "./config.js";

/** Who is counted: the certificate's organisation and software statement; null without a verified certificate. */
export interface Caller {
  readonly organisationId: string;
  readonly softwareStatementId: string;
}

/** The decision for one request. */
export type LimitVerdict =
  | { readonly ok: true; /** Counters that could not be reached (onStoreError open): forwarded uncounted. */ readonly storeError?: Error }
  | { readonly ok: false; readonly scope: "participant" | "global"; readonly retryAfterSeconds: number; readonly detail: string }
  | { readonly ok: false; readonly scope: "store"; readonly error: Error };

/** One counter consumed for this request, and what to say when it is over. */
interface Counter {
  readonly scope: "participant" | "global";
  readonly limiter: RateLimiterAbstract;
  readonly key: string;
  /** What to say when it is over (built only then). */
  readonly what: () => string;
}

/**
 * The traffic limits of one configuration generation, on a {@link LimiterBackend} that outlives reloads: per request,
 * the participant's counters for the path's API family (organisation and software statement, per second and per
 * minute, as `limits.families` says) and the route's global ceiling, all consumed at once (one round trip to Redis).
 * Any participant counter over its limit → `participant` (429); else the global ceiling over → `global` (529). A
 * request refused for its participant gives its point back to the global ceiling, so that one participant's refused
 * requests do not use up everyone's.
 */
export function createTrafficLimits(config: Pick<LimitsConfig, "families" | "onStoreError">, backend: LimiterBackend) {
  const windows = (w: LimitWindow | undefined, scope: string): { name: string; points: number; seconds: number }[] => [
    ...(w?.perSecond !== undefined ? [{ name: `${scope}:s`, points: w.perSecond, seconds: 1 }] : []),
    ...(w?.perMinute !== undefined ? [{ name: `${scope}:m`, points: w.perMinute, seconds: 60 }] : []),
  ];
  const families = new Map(
    Object.entries(config.families).map(([family, rule]) => [
      family,
      {
        organisation: windows(rule.organisation, "org").map((w) => ({ ...w, limiter: backend.limiter(w.name, w.points, w.seconds) })),
        softwareStatement: windows(rule.softwareStatement, "ss").map((w) => ({ ...w, limiter: backend.limiter(w.name, w.points, w.seconds) })),
      },
    ]),
  );
  const fallback = families.get("*");

  return {
    /** `route`: its name and global ceiling; `path`: the request path without its query. */
    async check(route: { readonly name: string; readonly globalPerSecond: number | undefined }, path: string, caller: Caller | null): Promise<LimitVerdict> {
      const family = apiFamily(path) ?? route.name;
      const rule = families.get(family) ?? fallback;
      const counters: Counter[] = [];
      if (caller && rule) {
        for (const w of rule.organisation)
          counters.push({ scope: "participant", limiter: w.limiter, key: `${family}:${caller.organisationId.toLowerCase()}`, what: () => `organisation ${caller.organisationId} over ${w.points} requests per ${w.seconds === 1 ? "second" : "minute"} on ${family}` });
        for (const w of rule.softwareStatement)
          counters.push({ scope: "participant", limiter: w.limiter, key: `${family}:${caller.softwareStatementId.toLowerCase()}`, what: () => `software statement ${caller.softwareStatementId} over ${w.points} requests per ${w.seconds === 1 ? "second" : "minute"} on ${family}` });
      }
      const ceiling = route.globalPerSecond;
      if (ceiling !== undefined) counters.push({ scope: "global", limiter: backend.limiter("route:s", ceiling, 1), key: route.name, what: () => `route ${route.name} over its global ceiling of ${ceiling} requests per second` });
      if (counters.length === 0) return { ok: true };

      const results = await Promise.allSettled(counters.map((c) => c.limiter.consume(c.key)));
      let storeError: Error | undefined;
      let over: { counter: Counter; res: RateLimiterRes }[] = [];
      results.forEach((r, i) => {
        if (r.status === "fulfilled") return;
        // rate-limiter-flexible rejects with a RateLimiterRes when over the limit, with an Error when the store failed.
        if (r.reason instanceof Error) storeError ??= r.reason;
        else over.push({ counter: counters[i]!, res: r.reason as RateLimiterRes });
      });
      if (storeError && config.onStoreError === "closed") return { ok: false, scope: "store", error: storeError };
      const participant = over.filter((o) => o.counter.scope === "participant");
      if (participant.length > 0) {
        results.forEach((r, i) => {
          const c = counters[i]!;
          if (c.scope === "global" && r.status === "fulfilled") void c.limiter.reward(c.key).catch(() => undefined);
        });
        over = participant;
      }
      if (over.length === 0) return storeError ? { ok: true, storeError } : { ok: true };
      const waitMs = Math.max(...over.map((o) => o.res.msBeforeNext));
      // RFC 9110 §10.2.3: delay-seconds; at least 1, so that a client does not retry within the same window.
      return { ok: false, scope: over[0]!.counter.scope, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), detail: over[0]!.counter.what() };
    },
  };
}

export type TrafficLimits = ReturnType<typeof createTrafficLimits>;
