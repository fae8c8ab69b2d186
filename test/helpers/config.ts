import { expect } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";

/** Validates an in-memory configuration as if read from /etc/ofb-edge/edge.json. */
export function parse(raw: unknown, env: Record<string, string> = {}) {
  return parseConfig(raw, { file: "edge.json", baseDir: "/etc/ofb-edge", env });
}

/** The issues a configuration is refused with (fails the test when it is accepted). */
export function issues(raw: unknown, env: Record<string, string> = {}): { path: string; message: string }[] {
  try {
    parse(raw, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  }
  throw new Error("accepted");
}
