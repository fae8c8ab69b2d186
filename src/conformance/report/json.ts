import type { SuiteResult } from "../runner.js";

/** The machine-readable report: the suite result as JSON, with the format's version. */
export function jsonReport(result: SuiteResult, tool: { readonly name: string; readonly version: string }): string {
  return `${JSON.stringify({ format: "ofb-edge-conformance/1", tool, ...result }, null, 2)}\n`;
}
