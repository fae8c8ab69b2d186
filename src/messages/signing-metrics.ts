import type { EdgeErrorCode } from "../errors.js";
import type { EdgeMetrics } from "../metrics/registry.js";

/** What the signed-message stages count (`ofb_edge_message_*`, metrics/registry.ts). */
export interface MessageMetrics {
  verified(route: string): void;
  refused(route: string, code: EdgeErrorCode): void;
  /** A replayed `jti` (also counted as refused with MESSAGE_JTI_REPLAYED). */
  replayed(route: string): void;
  response(route: string, outcome: "signed" | "error-signed" | "kept" | "empty"): void;
}

export function messageMetrics(metrics: Pick<EdgeMetrics, "messageSignatures" | "messageReplays" | "messageResponses">): MessageMetrics {
  return {
    verified: (route) => metrics.messageSignatures.inc({ route, result: "verified" }),
    refused: (route, code) => metrics.messageSignatures.inc({ route, result: "refused", code }),
    replayed: (route) => metrics.messageReplays.inc({ route }),
    response: (route, outcome) => metrics.messageResponses.inc({ route, outcome }),
  };
}
