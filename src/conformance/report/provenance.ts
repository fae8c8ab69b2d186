import type { SuiteResult } from "../runner.js";

const PROTOCOL_LABEL = { "http1.1": "HTTP/1.1", http2: "HTTP/2" } as const;

/** The running ofb-edge's commit and where it comes from, as a reader needs it. */
export function commitLabel(commit: SuiteResult["commit"]): string {
  if (commit.source === "OFB_EDGE_COMMIT") return `${commit.id} (OFB_EDGE_COMMIT)`;
  if (commit.source === "git") return `${commit.id} (git checkout${commit.modified ? ", tracked files modified" : ""})`;
  return "unknown (neither OFB_EDGE_COMMIT nor a git checkout)";
}

/**
 * What was tested, in the order every report states it after the scope statement: the ofb-edge commit, the mode,
 * the edge spoken to, the configuration fingerprint, the protocol and when the run started.
 */
export function provenanceFacts(result: SuiteResult): readonly (readonly [label: string, value: string])[] {
  return [
    ["ofb-edge commit", commitLabel(result.commit)],
    ["Mode", result.mode === "local" ? "local (ofb-edge's own stack on this machine)" : "target (a deployment)"],
    ["Target", result.target],
    ["Configuration", `${result.configuration.sha256} (${result.configuration.of})`],
    ["Protocol", PROTOCOL_LABEL[result.protocol]],
    ["Started", result.startedAt],
  ];
}
