import type { EdgeErrorCode } from "../errors.js";

/** The outcome of reading a token's `cnf` claim (RFC 7800 §3.1) for RFC 8705 binding. */
export type Confirmation = { readonly ok: true; readonly thumbprint: string } | { readonly ok: false; readonly code: EdgeErrorCode; readonly detail: string };

/** RFC 8705 §3.1: base64url SHA-256, no padding, no whitespace: exactly 43 characters. */
const X5T_S256 = /^[A-Za-z0-9_-]{43}$/;

/**
 * Reads the confirmation of a JWT payload or an introspection response (RFC 8705 §3.1, §3.2: top level only).
 * Exactly one member, `x5t#S256`, in canonical form, is a binding; anything else is a precise refusal.
 */
export function readConfirmation(cnf: unknown): Confirmation {
  if (cnf === undefined || cnf === null) return fail("TOKEN_UNBOUND", "the token has no cnf claim (RFC 8705 §3)");
  if (typeof cnf !== "object" || Array.isArray(cnf)) return fail("TOKEN_BINDING_MALFORMED", "cnf is not a JSON object (RFC 7800 §3.1)");
  const members = Object.keys(cnf);
  if (members.length === 0) return fail("TOKEN_UNBOUND", "cnf has no confirmation member");
  if (members.length > 1) return fail("TOKEN_BINDING_MALFORMED", `cnf has ${members.length} confirmation members (${members.map(shown).join(", ")}); exactly one, x5t#S256, is accepted`);
  const member = members[0]!;
  if (member !== "x5t#S256") return fail("TOKEN_BINDING_UNSUPPORTED", `cnf confirms with ${shown(member)}; only x5t#S256 (RFC 8705 §3.1) is accepted`);
  const value = (cnf as Record<string, unknown>)[member];
  if (typeof value !== "string") return fail("TOKEN_BINDING_MALFORMED", "cnf x5t#S256 is not a string");
  if (!X5T_S256.test(value)) return fail("TOKEN_BINDING_MALFORMED", `cnf x5t#S256 is ${problemOf(value)}; RFC 8705 §3.1 requires 43 base64url characters without padding`);
  return { ok: true, thumbprint: value };
}

/** RFC 8705 §3: the presented certificate must be the one the token is bound to. */
export function checkBinding(confirmation: Confirmation, presented: string | null): Confirmation {
  if (!confirmation.ok) return confirmation;
  if (presented === null) return fail("TOKEN_BINDING_MISMATCH", "the token is certificate-bound but the connection has no valid client certificate");
  if (confirmation.thumbprint !== presented) return fail("TOKEN_BINDING_MISMATCH", "the token is bound to another certificate (cnf x5t#S256 differs from the presented certificate's)");
  return confirmation;
}

function problemOf(value: string): string {
  if (/=+$/.test(value)) return "padded";
  if (/^[0-9a-fA-F]{64}$/.test(value)) return "hex-encoded";
  if (/[+/]/.test(value)) return "base64 rather than base64url";
  if (/\s/.test(value)) return "not free of whitespace";
  return `${value.length} characters long`;
}

function shown(member: string): string {
  return /^[A-Za-z0-9#._-]{1,32}$/.test(member) ? member : "(unrecognised member)";
}

function fail(code: EdgeErrorCode, detail: string): Confirmation {
  return { ok: false, code, detail };
}
