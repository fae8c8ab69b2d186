import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../src/package-root.js";

// The repository is self-contained: what the code, the conformance scenarios and reports, the README, the bench
// docs, the schemas and the profiles cite is either a primary source (an RFC, an OFB specification, an ICP-Brasil
// document, a vendor's documentation) or a document in the repository — never the project's working notes kept
// outside it. And every reference to `docs/…` names a file and a heading (or decision) that exist there.

const ROOT = packageRoot();
const SELF = relative(ROOT, fileURLToPath(import.meta.url));

/** Citations of documents users do not have: the project's design notes and reference files outside the repository. */
const EXTERNAL = /DESIGN §|DESIGN D[0-9]|DESIGN "|(ofb-facts|icp-brasil-facts|header-formats|conformance-sources)( §|\.md)|STYLE/;

/** Every tracked (or new, not ignored) text file of the product, its tests and its docs. */
function productFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "src", "conformance", "bench", "docs", "schema", "profiles", "test", "README.md"], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(listed.split("\0").filter((f) => f !== "" && f !== SELF && existsSync(join(ROOT, f))))];
}

function textOf(file: string): string | null {
  const bytes = readFileSync(join(ROOT, file));
  return bytes.includes(0) ? null : bytes.toString("utf8");
}

/** A comment or text wrapped over several lines, read as one line (` * ` and `// ` continuations joined). */
function unwrapped(text: string): string {
  return text.replace(/\r?\n[ \t]*(?:\*(?!\/)|\/\/)?[ \t]*/g, " ");
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces as `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

interface DocIndex {
  readonly headings: readonly string[];
  readonly decisions: ReadonlySet<string>;
}

function indexOf(markdown: string): DocIndex {
  const lines = markdown.split("\n");
  let fenced = false;
  const headings: string[] = [];
  for (const line of lines) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+?)\s*$/.exec(line);
    if (m) headings.push(m[1]!);
  }
  const decisions = new Set(lines.flatMap((l) => /^\| (D\d+) \|/.exec(l)?.[1] ?? []));
  return { headings, decisions };
}

/** One `docs/<file>.md` reference and the problem with it, or null. */
function problemOf(ref: string, after: string, docs: Map<string, DocIndex | null>): string | null {
  const doc = docs.get(ref) ?? null;
  if (doc === null) return `${ref} does not exist`;
  const anchor = /^#([\w-]+)/.exec(after);
  if (anchor && !doc.headings.some((h) => slug(h) === anchor[1])) return `${ref}#${anchor[1]}: no such heading`;
  if (after.startsWith(" §")) {
    const text = after.slice(2);
    const heading = doc.headings.find((h) => text.startsWith(h) && !/^[\p{L}\p{N}]/u.test(text.slice(h.length)));
    if (!heading) return `${ref} §${text.slice(0, 40)}…: no heading of ${ref} begins this reference`;
  }
  return null;
}

describe("the repository is self-contained", () => {
  const files = productFiles();
  const texts = new Map(files.map((f) => [f, textOf(f)] as const));

  it("lists the product's files (a guard that checks nothing proves nothing)", () => {
    expect(files).toContain("src/app.ts");
    expect(files).toContain("README.md");
    expect(files).toContain("docs/architecture.md");
    expect(files.filter((f) => f.startsWith("conformance/scenarios/")).length).toBeGreaterThan(100);
  });

  it("no file cites the design notes or reference files kept outside the repository", () => {
    const found: string[] = [];
    for (const [file, text] of texts) {
      if (text === null) continue;
      text.split("\n").forEach((line, i) => EXTERNAL.test(line) && found.push(`${file}:${i + 1}: ${line.trim().slice(0, 160)}`));
    }
    expect(found).toEqual([]);
  });

  it("every docs/… reference names a file, a heading and a decision that exist", () => {
    const docs = new Map<string, DocIndex | null>();
    const index = (ref: string) => {
      if (!docs.has(ref)) docs.set(ref, existsSync(join(ROOT, ref)) ? indexOf(readFileSync(join(ROOT, ref), "utf8")) : null);
      return docs.get(ref) ?? null;
    };
    const problems: string[] = [];
    let references = 0;
    for (const [file, raw] of texts) {
      if (raw === null) continue;
      const text = unwrapped(raw);
      // A repository-relative reference: `docs/<name>.md`, not part of a longer path (another project's docs/ folder).
      for (const m of text.matchAll(/(?<![\w/.-])(docs\/[\w.-]+\.md)/g)) {
        references++;
        index(m[1]!);
        const problem = problemOf(m[1]!, text.slice(m.index + m[1]!.length), docs);
        if (problem) problems.push(`${file}: ${problem}`);
      }
      // Decisions, however the sentence names them: "decision D4", "decisions D5 and D6", "D1 (…) and D3".
      if (text.includes("docs/architecture.md")) {
        const decisions = index("docs/architecture.md")?.decisions ?? new Set<string>();
        for (const m of text.matchAll(/\bdecisions? (D\d+(?:(?: \([^)]*\))?(?:,| and) D\d+)*)/g)) {
          for (const d of m[1]!.match(/D\d+/g) ?? []) if (!decisions.has(d)) problems.push(`${file}: decision ${d} is not in the decisions table of docs/architecture.md`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(references).toBeGreaterThan(50);
  });

  it("the checks catch what they are for: an external citation, a missing heading or anchor, a missing file", () => {
    expect(EXTERNAL.test("// ofb-facts §4.2: parse by OID")).toBe(true);
    expect(EXTERNAL.test(" * (DESIGN D6)")).toBe(true);
    expect(EXTERNAL.test("see icp-brasil-facts.md")).toBe(true);
    expect(EXTERNAL.test("// OFB certificate standard 2.1")).toBe(false);
    const docs = new Map<string, DocIndex | null>([["docs/architecture.md", indexOf("# A\n## Token binding\n| D4 | x |\n")], ["docs/gone.md", null]]);
    expect(problemOf("docs/architecture.md", " §Token binding). Next", docs)).toBeNull();
    expect(problemOf("docs/architecture.md", " §Token bindings", docs)).toMatch(/no heading/);
    expect(problemOf("docs/architecture.md", " §Revocation", docs)).toMatch(/no heading/);
    expect(problemOf("docs/architecture.md", "#token-binding)", docs)).toBeNull();
    expect(problemOf("docs/architecture.md", "#revocation)", docs)).toMatch(/no such heading/);
    expect(problemOf("docs/gone.md", "", docs)).toMatch(/does not exist/);
    expect(unwrapped(" * see docs/architecture.md §Token\n * binding for")).toBe(" * see docs/architecture.md §Token binding for");
  });
});
