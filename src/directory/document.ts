import { z } from "zod";
import { jsonSyntaxErrorOffset } from "../config/json-syntax.js";
import type { Organisation, RoleClaim } from "./types.js";

/** One problem of a rejected document: the JSON path (`[17].OrganisationId`) and what was expected there. */
export interface DocumentIssue {
  readonly path: string;
  readonly message: string;
}

/** At most this many issues are kept: a garbage document would otherwise produce one per entry. */
const MAX_ISSUES = 10;
/** At most this many characters of a document are quoted back in an error. */
const MAX_QUOTE = 32;

/**
 * The Directory document is unusable as a whole: the previous snapshot stays in service (docs/architecture.md,
 * decision D5). Messages name JSON paths and quote at most a few characters of the body.
 */
export class DirectoryDocumentError extends Error {
  override readonly name = "DirectoryDocumentError";
  readonly issues: readonly DocumentIssue[];

  constructor(source: string, issues: readonly DocumentIssue[], more = 0) {
    const list = issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ");
    super(`${source}: ${list}${more > 0 ? ` (and ${more} more)` : ""}`);
    this.issues = issues;
  }
}

/**
 * A generic UUID (RFC 9562 layout, any version): 57 of 59 organisations of 2021 hold version 5 ids
 * (2021 production `/participants` data), so a v4-only check would drop real participants.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Non-essential text: absent, `null` or a non-string value reads as "" (real Directory data drifts from its swagger).
 */
const text = z.unknown().optional().transform((v) => (typeof v === "string" ? v.trim() : ""));

const roleClaim = z.object(
  {
    // Roles are decided on `Role` and `Status` only; the domain string varies in real data ("Open Banking Brasil ").
    Role: z.string({ error: "expected a string" }).transform((role) => role.trim().toUpperCase()),
    Status: z.string({ error: "expected a string" }),
    AuthorisationDomain: text,
  },
  { error: "expected an object" },
);

const organisation = z.object(
  {
    OrganisationId: z.string({ error: "expected a UUID" }).regex(UUID, { error: "expected a UUID" }),
    // An unknown value is kept: the check stage fails it closed (DIRECTORY_ORG_STATUS_UNKNOWN).
    Status: z.string({ error: "expected a string" }),
    OrganisationName: text,
    RegisteredName: text,
    LegalEntityName: text,
    RegistrationNumber: text,
    // 4 of 59 organisations of the 2021 production `/participants` had no role claims at all.
    OrgDomainRoleClaims: z.array(roleClaim, { error: "expected an array of role claims" }).nullish(),
  },
  { error: "expected an object" },
);

const participants = z.array(organisation, { error: "expected an array of organisations" });

/**
 * The `/participants` document (OFB Directory swagger_participants.yaml v1.1.0) as normalised {@link Organisation}s,
 * keeping only what the checks use. Tolerates the drift of real data and unknown fields anywhere; rejects the
 * document as a whole, with {@link DirectoryDocumentError}, when an organisation cannot be identified, a
 * role claim cannot be read, an `OrganisationId` repeats, or there are no organisations at all.
 */
export function parseParticipants(raw: unknown): readonly Organisation[] {
  const result = participants.safeParse(raw);
  if (!result.success) {
    throw documentError(result.error.issues.map((i) => ({ path: jsonPath(i.path), message: i.message })));
  }
  const entries = result.data;
  const issues: DocumentIssue[] = [];
  if (entries.length === 0) issues.push({ path: "", message: "no organisations (an empty Directory is not a usable snapshot)" });
  const seen = new Map<string, number>();
  entries.forEach((entry, index) => {
    const id = entry.OrganisationId.toLowerCase();
    const first = seen.get(id);
    if (first === undefined) seen.set(id, index);
    else issues.push({ path: `[${index}].OrganisationId`, message: `duplicate of [${first}].OrganisationId` });
  });
  if (issues.length > 0) throw documentError(issues);
  return Object.freeze(entries.map(toOrganisation));
}

function toOrganisation(entry: z.infer<typeof organisation>): Organisation {
  const roles = (entry.OrgDomainRoleClaims ?? []).map(
    (claim): RoleClaim => Object.freeze({ role: claim.Role, status: claim.Status, domain: claim.AuthorisationDomain }),
  );
  return Object.freeze({
    id: entry.OrganisationId.toLowerCase(),
    status: entry.Status,
    name: entry.OrganisationName || entry.RegisteredName || entry.LegalEntityName,
    registrationNumber: normaliseRegistrationNumber(entry.RegistrationNumber),
    roles: Object.freeze(roles),
  });
}

/**
 * `"92702067"`, `"07853842000135"` and `"13.353.236/001-89"` all occur in production data; the punctuation is
 * dropped and letters upper-cased (alphanumeric CNPJs exist).
 */
export function normaliseRegistrationNumber(value: string): string {
  return value.replace(/[./\-\s]/g, "").toUpperCase();
}

/**
 * `JSON.parse` for a Directory document. On failure the error names the source and the line and column,
 * and quotes at most {@link MAX_QUOTE} characters from there (an HTML error page, a truncated body).
 */
export function parseJsonDocument(body: string, source: string): unknown {
  // A UTF-8 byte order mark is not JSON (RFC 8259 §8.1) but is harmless to drop.
  const json = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    // V8's own message can quote a long stretch of the body: only the location is reported.
    throw new DirectoryDocumentError(source, [{ path: "", message: `invalid JSON ${describeSyntaxError(json)}` }]);
  }
}

function describeSyntaxError(json: string): string {
  let offset: number;
  try {
    offset = jsonSyntaxErrorOffset(json);
  } catch {
    // A hostile nesting depth can exhaust the stack of the locator; the position is then unknown.
    return "(position unknown)";
  }
  if (offset < 0 || offset >= json.length) return json.trim() === "" ? "(empty body)" : "(unexpected end of input)";
  const before = json.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `at line ${line}, column ${column} near ${JSON.stringify(json.slice(offset, offset + MAX_QUOTE))}`;
}

function documentError(all: readonly DocumentIssue[]): DirectoryDocumentError {
  return new DirectoryDocumentError("participants document rejected", all.slice(0, MAX_ISSUES), Math.max(0, all.length - MAX_ISSUES));
}

/** `[17].OrgDomainRoleClaims[0].Role` from a zod path. */
function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}
