import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

/**
 * Paths redacted wherever they appear. Tokens, keys and PEMs are never put in log objects in the first
 * place; this is the second line of defence, redacting by path. Exact paths only: wildcard
 * paths make pino walk every object on every line, which the access log (one line per request) cannot afford.
 */
export const REDACT_PATHS = [
  "authorization",
  "headers.authorization",
  "headers.cookie",
  "token",
  "key",
  "pem",
  "passphrase",
  "err.config",
] as const;

/** The stdout destination buffers up to this many bytes (one write per batch, not per line)… */
const BUFFER_BYTES = 4096;
/** …and is flushed at least this often, so a quiet edge's lines are never held back for long. */
const FLUSH_INTERVAL_MS = 500;

/** A pino JSON logger with an injected destination (stdout in production, a capture stream in tests). */
export function createLogger(options: { level: LoggerOptions["level"]; base?: Record<string, unknown> }, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? "info",
    base: { service: "ofb-edge", ...options.base },
    redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (destination) return pino(opts, destination);
  const stdout = pino.destination({ dest: 1, sync: false, minLength: BUFFER_BYTES });
  setInterval(() => stdout.flush(), FLUSH_INTERVAL_MS).unref();
  return pino(opts, stdout);
}
