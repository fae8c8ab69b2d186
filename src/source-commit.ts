import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { packageRoot } from "./package-root.js";

/** Where the commit of a running ofb-edge comes from. */
export type CommitSource = "OFB_EDGE_COMMIT" | "git" | "unknown";

/** The source commit an ofb-edge runs from, as far as it can tell. */
export interface SourceCommit {
  /** The git commit id in lowercase hex, or `unknown`. */
  readonly id: string;
  readonly source: CommitSource;
  /** From a checkout only: whether tracked files differ from that commit (the code run is not exactly the commit). */
  readonly modified?: boolean;
}

const COMMIT_ID = /^[0-9a-f]{7,64}$/i;
const GIT_TIMEOUT_MS = 5_000;

/**
 * `OFB_EDGE_COMMIT` as the deployment gives it: a git commit id of 7 to 64 hex digits, returned in lowercase.
 * Anything else is a TypeError naming the variable and the rule.
 */
export function checkCommitId(value: string): string {
  if (!COMMIT_ID.test(value)) throw new TypeError(`OFB_EDGE_COMMIT must be a git commit id (7 to 64 hex digits), got '${value}'`);
  return value.toLowerCase();
}

/**
 * The commit this ofb-edge runs from: `OFB_EDGE_COMMIT` when set (an image build passes it); else, when the package
 * folder is the top of a git checkout, its `HEAD` and whether tracked files were modified; else `unknown`. A package
 * installed inside another repository's tree is not that repository's commit, so the checkout's top must be the
 * package folder itself.
 */
export function sourceCommit(env: Readonly<Record<string, string | undefined>>, root: string = packageRoot()): SourceCommit {
  const given = env.OFB_EDGE_COMMIT;
  if (given !== undefined && given !== "") return { id: checkCommitId(given), source: "OFB_EDGE_COMMIT" };
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8", timeout: GIT_TIMEOUT_MS, stdio: ["ignore", "pipe", "ignore"] });
  try {
    const [top, head] = git("rev-parse", "--show-toplevel", "HEAD").trim().split("\n");
    if (!top || !head || realpathSync(top) !== realpathSync(root) || !COMMIT_ID.test(head)) return { id: "unknown", source: "unknown" };
    const modified = git("status", "--porcelain", "--untracked-files=no").trim() !== "";
    return { id: head.toLowerCase(), source: "git", modified };
  } catch {
    // No git, not a checkout, or git did not answer in time: the commit is not known.
    return { id: "unknown", source: "unknown" };
  }
}
