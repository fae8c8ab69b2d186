import { pino, type DestinationStream, type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

/**
 * Paths redacted wherever they appear. Tokens, keys and PEMs are never put in log objects in the first
 * place; this is the second line of defence (STYLE habit 14: redact by path).
 */
export const REDACT_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "headers.cookie",
  "*.headers.cookie",
  "token",
  "*.token",
  "key",
  "*.key",
  "pem",
  "*.pem",
  "passphrase",
  "*.passphrase",
] as const;

/** A pino JSON logger with an injected destination (stdout in production, a capture stream in tests). */
export function createLogger(options: { level: LoggerOptions["level"]; base?: Record<string, unknown> }, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? "info",
    base: { service: "ofb-edge", ...options.base },
    redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(opts, destination) : pino(opts, pino.destination({ dest: 1, sync: false }));
}
