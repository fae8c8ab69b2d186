import { OFB_CODE_BY_CODE, TITLE_BY_CODE, type EdgeError } from "../errors.js";

/** OFB `ResponseError` limits (accounts 2.4.2): title and code ≤ 255, detail ≤ 2048 characters. */
const LIMITS = { code: 255, title: 255, detail: 2048 } as const;

export const JSON_UTF8 = "application/json; charset=utf-8";

/** `meta.requestDateTime`: RFC 3339 UTC without fractions, ≤ 20 characters (e.g. `2021-05-21T08:30:00Z`). */
export function requestDateTime(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

/** The OFB `ResponseErrorMetaSingle` body for an edge rejection. */
export function ofbErrorBody(err: EdgeError, now: Date): string {
  return JSON.stringify(ofbError(err, now));
}

/** The OFB `ResponseErrorMetaSingle` object for an edge rejection (the payload of a signed error). */
export function ofbError(err: EdgeError, now: Date): { errors: { code: string; title: string; detail: string }[]; meta: { requestDateTime: string } } {
  return {
    errors: [
      {
        code: (OFB_CODE_BY_CODE[err.code] ?? err.code).slice(0, LIMITS.code),
        title: TITLE_BY_CODE[err.code].slice(0, LIMITS.title),
        detail: (err.message || TITLE_BY_CODE[err.code]).slice(0, LIMITS.detail),
      },
    ],
    meta: { requestDateTime: requestDateTime(now) },
  };
}
