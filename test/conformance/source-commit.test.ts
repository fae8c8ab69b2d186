import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";
import { checkCommitId, sourceCommit } from "../../src/source-commit.js";

// The commit a conformance report names: OFB_EDGE_COMMIT when the deployment sets it, else the HEAD of the git
// checkout the package runs from (only when the package folder is the checkout's top), else "unknown".

const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

let repo: string;
let plain: string;

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), "ofb-edge-commit-repo-"));
  plain = await mkdtemp(join(tmpdir(), "ofb-edge-commit-plain-"));
  git(repo, "init", "-q");
  await writeFile(join(repo, "package.json"), "{}\n");
  git(repo, "add", "package.json");
  git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "one");
});

afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
  await rm(plain, { recursive: true, force: true });
});

describe("sourceCommit", () => {
  it("takes OFB_EDGE_COMMIT first, in lower case, whatever the folder", () => {
    expect(sourceCommit({ OFB_EDGE_COMMIT: "ABCDEF1234567" }, plain)).toEqual({ id: "abcdef1234567", source: "OFB_EDGE_COMMIT" });
    expect(sourceCommit({ OFB_EDGE_COMMIT: "abcdef1" }, repo)).toEqual({ id: "abcdef1", source: "OFB_EDGE_COMMIT" });
  });

  it("refuses an OFB_EDGE_COMMIT that is not a commit id, naming the variable and the rule", () => {
    expect(() => sourceCommit({ OFB_EDGE_COMMIT: "main" }, repo)).toThrow(/OFB_EDGE_COMMIT must be a git commit id \(7 to 64 hex digits\), got 'main'/);
    expect(() => checkCommitId("abc123")).toThrow(TypeError);
  });

  it("reads HEAD of the checkout whose top is the package folder, and says when tracked files were modified", async () => {
    const head = git(repo, "rev-parse", "HEAD");
    expect(sourceCommit({}, repo)).toEqual({ id: head, source: "git", modified: false });
    await writeFile(join(repo, "package.json"), '{"changed":true}\n');
    expect(sourceCommit({}, repo)).toEqual({ id: head, source: "git", modified: true });
    git(repo, "checkout", "-q", "--", "package.json");
    await writeFile(join(repo, "untracked.txt"), "not part of the build\n");
    expect(sourceCommit({}, repo).modified).toBe(false);
  });

  it("this ofb-edge's own checkout by default", () => {
    const root = packageRoot();
    expect(sourceCommit({})).toMatchObject({ id: git(root, "rev-parse", "HEAD"), source: "git" });
  });

  it("is unknown outside a checkout, and in a folder below a checkout's top (a package installed in another repository)", async () => {
    expect(sourceCommit({}, plain)).toEqual({ id: "unknown", source: "unknown" });
    const below = join(repo, "node_modules-like");
    await mkdir(below);
    expect(sourceCommit({}, below)).toEqual({ id: "unknown", source: "unknown" });
    expect(sourceCommit({ OFB_EDGE_COMMIT: "" }, plain)).toEqual({ id: "unknown", source: "unknown" });
  });
});
