import type { EdgeErrorCode } from "../errors.js";
import type { Confirmation } from "./cnf.js";

/** What a verified access token tells the edge and, through header profiles, the backend. */
export interface VerifiedToken {
  readonly source: "jwt" | "introspection";
  readonly clientId: string | undefined;
  readonly sub: string | undefined;
  /** `scope` as sent (space-separated), and split. */
  readonly scope: string | undefined;
  readonly scopes: readonly string[];
  /** `exp`, seconds since the epoch. */
  readonly exp: number | undefined;
  /** The token's certificate confirmation (RFC 8705), read once when the token was verified. */
  readonly confirmation: Confirmation;
}

/** The outcome of verifying or introspecting one token. */
export type TokenOutcome =
  | { readonly ok: true; readonly token: VerifiedToken; /** Epoch ms after which it must be verified again. */ readonly until: number }
  | {
      readonly ok: false;
      readonly code: EdgeErrorCode;
      readonly detail: string;
      /** Whether the failure is a fact about the token (remembered briefly) or a state of the edge (not remembered). */
      readonly cacheable: boolean;
    };

export function rejected(code: EdgeErrorCode, detail: string, cacheable = true): TokenOutcome {
  return { ok: false, code, detail, cacheable };
}

export function scopesOf(scope: string | undefined): readonly string[] {
  return scope === undefined ? [] : scope.split(" ").filter((s) => s !== "");
}
