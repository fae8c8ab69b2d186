import { describe, expect, it } from "vitest";
import { EdgeError, OFB_CODE_BY_CODE, STATUS_BY_CODE, TITLE_BY_CODE, type EdgeErrorCode } from "../../src/errors.js";
import { ofbErrorBody, requestDateTime } from "../../src/http/ofb-error.js";

const CODES = Object.keys(STATUS_BY_CODE) as EdgeErrorCode[];

describe("reason codes: one table of statuses and titles (docs/architecture.md §Errors)", () => {
  it("gives every code in STATUS_BY_CODE a non-empty title of at most 255 characters, and no title without a code", () => {
    expect(Object.keys(TITLE_BY_CODE).sort()).toEqual([...CODES].sort());
    for (const code of CODES) {
      const title: string = TITLE_BY_CODE[code];
      expect(title.trim().length, code).toBeGreaterThan(0);
      expect(title.length, code).toBeLessThanOrEqual(255);
    }
  });

  it("maps every code to an error status (4xx or 5xx) and uses it for EdgeError", () => {
    for (const code of CODES) {
      expect(STATUS_BY_CODE[code], code).toBeGreaterThanOrEqual(400);
      expect(STATUS_BY_CODE[code], code).toBeLessThan(600);
      expect(new EdgeError(code, "http", "x").status).toBe(STATUS_BY_CODE[code]);
    }
  });

  it("keeps the statuses docs/architecture.md §Errors assigns to each family", () => {
    // A state of the edge's dependencies (CRLs, Directory, authorization server) is a 503, never a verdict on the client.
    const UNAVAILABLE = new Set(["CERT_REVOCATION_UNAVAILABLE", "DIRECTORY_UNAVAILABLE", "DIRECTORY_KEYSTORE_UNAVAILABLE", "AUTHORIZATION_SERVER_UNAVAILABLE"]);
    for (const code of CODES) {
      if (UNAVAILABLE.has(code)) expect(STATUS_BY_CODE[code], code).toBe(503);
      else if (code.startsWith("CERT_") || code.startsWith("IDENTITY_")) expect(STATUS_BY_CODE[code], code).toBe(401);
      // RFC 6750 §3.1: invalid_request 400, invalid_token 401, insufficient_scope 403.
      else if (code.startsWith("TOKEN_")) expect(STATUS_BY_CODE[code], code).toBe(code === "TOKEN_REQUEST_INVALID" ? 400 : code === "TOKEN_SCOPE_INSUFFICIENT" ? 403 : 401);
    }
    expect(STATUS_BY_CODE.PARTICIPANT_DENIED).toBe(403);
    expect(STATUS_BY_CODE.INTERACTION_ID_INVALID).toBe(400);
    expect(STATUS_BY_CODE.REQUEST_MALFORMED).toBe(400);
    expect(STATUS_BY_CODE.REQUEST_PATH_INVALID).toBe(400);
    expect(STATUS_BY_CODE.ROUTE_NOT_FOUND).toBe(404);
    expect(STATUS_BY_CODE.REQUEST_TOO_LARGE).toBe(413);
    expect(STATUS_BY_CODE.REQUEST_HEADERS_TOO_LARGE).toBe(431);
    expect(STATUS_BY_CODE.UPSTREAM_UNAVAILABLE).toBe(502);
    expect(STATUS_BY_CODE.UPSTREAM_TIMEOUT).toBe(504);
  });

  it("answers signed-message failures with the payments API's codes: BAD_SIGNATURE is 400, INVALID_CLIENT 403 (payments 4.0.0 items 1.2.3, 1.2.4)", () => {
    const mapped = CODES.filter((code) => OFB_CODE_BY_CODE[code] !== undefined);
    expect(mapped.length).toBeGreaterThan(0);
    for (const code of mapped) {
      expect(code.startsWith("MESSAGE_"), code).toBe(true);
      expect(STATUS_BY_CODE[code], code).toBe(OFB_CODE_BY_CODE[code] === "BAD_SIGNATURE" ? 400 : 403);
    }
    expect(OFB_CODE_BY_CODE.MESSAGE_SIGNATURE_INVALID).toBe("BAD_SIGNATURE");
    expect(OFB_CODE_BY_CODE.MESSAGE_KEY_UNKNOWN).toBe("BAD_SIGNATURE");
    expect(OFB_CODE_BY_CODE.MESSAGE_JTI_REPLAYED).toBe("INVALID_CLIENT");
    expect(OFB_CODE_BY_CODE.MESSAGE_AUDIENCE_INVALID).toBe("INVALID_CLIENT");
  });
});

describe("OFB ResponseError body (accounts 2.4.2 ResponseErrorMetaSingle)", () => {
  const at = new Date("2021-05-21T08:30:00.987Z");

  it("writes meta.requestDateTime as RFC 3339 UTC without fractions, at most 20 characters", () => {
    expect(requestDateTime(at)).toBe("2021-05-21T08:30:00Z");
    expect(requestDateTime(at).length).toBeLessThanOrEqual(20);
  });

  it("has exactly errors[{code,title,detail}] and meta{requestDateTime} for every code", () => {
    for (const code of CODES) {
      const body = JSON.parse(ofbErrorBody(new EdgeError(code, "http", `detail for ${code}`), at));
      expect(body).toEqual({
        errors: [{ code: OFB_CODE_BY_CODE[code] ?? code, title: TITLE_BY_CODE[code], detail: `detail for ${code}` }],
        meta: { requestDateTime: "2021-05-21T08:30:00Z" },
      });
    }
  });

  it("cuts the detail at 2048 characters and falls back to the title when there is none", () => {
    const long = JSON.parse(ofbErrorBody(new EdgeError("REQUEST_MALFORMED", "http", "d".repeat(5000)), at));
    expect(long.errors[0].detail).toHaveLength(2048);
    const empty = JSON.parse(ofbErrorBody(new EdgeError("REQUEST_MALFORMED", "http", ""), at));
    expect(empty.errors[0].detail).toBe(TITLE_BY_CODE.REQUEST_MALFORMED);
  });
});
