/** A JWS/JWT compact serialization (RFC 7515 §7.1) inside a peer-controlled string: never logged. */
const COMPACT_JWS = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

/**
 * A peer- or operator-supplied string made fit for a log line: at most `max` characters, printable ASCII only
 * (anything else, control characters included, becomes `?`), and a token-shaped run replaced by `[redacted]`.
 * undefined stays undefined (the field is left out).
 */
export function loggableText(value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  // Cut before the regular expressions run, so that a header of many kilobytes costs no more than a short one (a
  // token cut short there is still longer than what is kept, and replaced before the final cut).
  const bounded = value.length > max * 4 ? value.slice(0, max * 4) : value;
  return bounded.replace(COMPACT_JWS, "[redacted]").replace(/[^\x20-\x7E]/g, "?").slice(0, max);
}
