import type { SuiteResult } from "../runner.js";

/**
 * The machine-readable report: the suite result as JSON, with the format's version, the scope statement first, then
 * the tool, the commit, mode, target, protocol and configuration fingerprint (with the document fingerprinted).
 */
export function jsonReport(result: SuiteResult, tool: { readonly name: string; readonly version: string }): string {
  const { scope, ...rest } = result;
  return `${JSON.stringify({ format: "ofb-edge-conformance/1", scope, tool, ...rest }, null, 2)}\n`;
}
