import { describe, expect, it } from "vitest";
import { DirectoryDocumentError, parseJsonDocument, parseParticipants } from "../../src/directory/document.js";

/** A valid Organisation object with a distinct id per index. */
function entry(index: number, changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    OrganisationId: `f6eacc55-c81f-5226-9b5a-${index.toString(16).padStart(12, "0")}`,
    Status: "Active",
    OrganisationName: `BANCO ${index} S.A.`,
    OrgDomainRoleClaims: [{ Role: "DADOS", Status: "Active" }],
    ...changes,
  };
}

function rejection(raw: unknown): DirectoryDocumentError {
  try {
    parseParticipants(raw);
  } catch (err) {
    if (err instanceof DirectoryDocumentError) return err;
    throw err;
  }
  throw new Error("the document was accepted");
}

// docs/architecture.md, decision D5: a garbage document must never replace the last good snapshot, so it is refused as a whole.
describe("parseParticipants refuses a document that cannot be trusted as a whole, naming the JSON path", () => {
  it.each([
    ["not an array", { participants: [] }, "", "expected an array of organisations"],
    ["null", null, "", "expected an array of organisations"],
    ["an entry that is not an object", [entry(0), "BANCO"], "[1]", "expected an object"],
    ["an entry without OrganisationId", [entry(0, { OrganisationId: undefined })], "[0].OrganisationId", "expected a UUID"],
    ["an OrganisationId that is not a UUID", [entry(0), entry(1, { OrganisationId: "OFBBR-1234" })], "[1].OrganisationId", "expected a UUID"],
    ["a numeric OrganisationId", [entry(0, { OrganisationId: 17 })], "[0].OrganisationId", "expected a UUID"],
    ["an entry without Status", [entry(0, { Status: undefined })], "[0].Status", "expected a string"],
    ["a null Status", [entry(0, { Status: null })], "[0].Status", "expected a string"],
    ["a role claim without Role", [entry(0, { OrgDomainRoleClaims: [{ Role: "DADOS", Status: "Active" }, { Status: "Active" }] })], "[0].OrgDomainRoleClaims[1].Role", "expected a string"],
    ["a role claim without Status", [entry(0, { OrgDomainRoleClaims: [{ Role: "PAGTO" }] })], "[0].OrgDomainRoleClaims[0].Status", "expected a string"],
    ["a role claim that is not an object", [entry(0, { OrgDomainRoleClaims: ["DADOS"] })], "[0].OrgDomainRoleClaims[0]", "expected an object"],
    ["OrgDomainRoleClaims that is not an array", [entry(0, { OrgDomainRoleClaims: "DADOS" })], "[0].OrgDomainRoleClaims", "expected an array of role claims"],
    ["zero organisations (an empty Directory is garbage, not data)", [], "", "no organisations (an empty Directory is not a usable snapshot)"],
  ])("%s", (_case, raw, path, message) => {
    expect(rejection(raw).issues).toEqual([{ path, message }]);
  });

  it("a duplicate OrganisationId, compared case-insensitively, names both entries", () => {
    const id = (entry(1).OrganisationId as string).toUpperCase();
    const err = rejection([entry(0), entry(1), entry(2), entry(3, { OrganisationId: id })]);
    expect(err.issues).toEqual([{ path: "[3].OrganisationId", message: "duplicate of [1].OrganisationId" }]);
  });

  it("the message lists path and reason, e.g. '[17].OrganisationId: expected a UUID'", () => {
    const entries = Array.from({ length: 20 }, (_, i) => entry(i));
    entries[17] = entry(17, { OrganisationId: "not-a-uuid" });
    const err = rejection(entries);
    expect(err.message).toBe("participants document rejected: [17].OrganisationId: expected a UUID");
    expect(err.name).toBe("DirectoryDocumentError");
  });

  it("reports at most 10 issues however broken the document is, and counts the rest", () => {
    const err = rejection(Array.from({ length: 25 }, () => ({ Status: "Active" })));
    expect(err.issues).toHaveLength(10);
    expect(err.issues[9]).toEqual({ path: "[9].OrganisationId", message: "expected a UUID" });
    expect(err.message).toMatch(/ \(and 15 more\)$/);
  });

  it("never quotes document values in issues (a broken entry's content stays out of logs)", () => {
    const err = rejection([entry(0, { OrganisationId: "SECRET-LOOKING-VALUE", Status: { token: "eyJhbGciOi" } })]);
    expect(err.message).not.toMatch(/SECRET-LOOKING-VALUE|eyJhbGciOi/);
  });
});

describe("parseJsonDocument", () => {
  it("parses JSON, tolerating a UTF-8 byte order mark", () => {
    expect(parseJsonDocument('\uFEFF[{"a":1}]', "participants")).toEqual([{ a: 1 }]);
  });

  it("names the source, line and column of a syntax error and quotes at most 32 characters of the body", () => {
    const secretTail = "x".repeat(200) + "SECRET";
    const body = `[\n  {"OrganisationId": <html>${secretTail}</html>}\n]`;
    let err: unknown;
    try {
      parseJsonDocument(body, "https://data.directory.example/participants");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DirectoryDocumentError);
    const message = (err as Error).message;
    expect(message).toBe(`https://data.directory.example/participants: (root): invalid JSON at line 2, column 22 near ${JSON.stringify(`<html>${"x".repeat(26)}`)}`);
    expect(message).not.toContain("SECRET");
  });

  it.each([
    ["an empty body", "", "invalid JSON (empty body)"],
    ["a truncated body", '[{"OrganisationId": "f6eacc55', "invalid JSON (unexpected end of input)"],
  ])("explains %s", (_case, body, reason) => {
    expect(() => parseJsonDocument(body, "participants")).toThrow(`participants: (root): ${reason}`);
  });
});
