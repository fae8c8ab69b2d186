import { describe, expect, it } from "vitest";
import { canonicalJson, requestFingerprint } from "../../src/idempotency/fingerprint.js";
import { jws } from "./helpers.js";

const PATH = "/open-banking/payments/v4/pix/payments";
const fp = (body: string | Buffer, o: { method?: string; target?: string; type?: string } = {}) => requestFingerprint(o.method ?? "POST", o.target ?? PATH, o.type ?? "application/jwt", Buffer.from(body));

describe("idempotency fingerprint", () => {
  it("a signed body re-signed with new jti, iat, exp and nbf, members in another order, is the same request", () => {
    const a = jws({ aud: "x", iss: "o", iat: 1, exp: 2, nbf: 1, jti: "j1", data: { amount: "1.00", creditor: { name: "M", cpf: "1" }, list: [1, { b: 2, a: 1 }] } });
    const b = jws({ data: { list: [1, { a: 1, b: 2 }], creditor: { cpf: "1", name: "M" }, amount: "1.00" }, jti: "j2", iat: 9, exp: 10, nbf: 9, iss: "o", aud: "x" });
    expect(fp(a)).toBe(fp(b));
    expect(fp(a, { type: "application/jwt; charset=utf-8" })).toBe(fp(b, { type: "APPLICATION/JWT" }));
  });

  it("the claims the signature stage verified give the fingerprint of the body they came from", () => {
    const claims = { aud: "x", iss: "o", iat: 1, jti: "j1", data: { amount: "1.00", creditor: { name: "M" } } };
    const body = Buffer.from(jws(claims));
    expect(requestFingerprint("POST", PATH, "application/jwt", body, claims)).toBe(fp(body));
    expect(requestFingerprint("POST", PATH, "application/jwt", body, { ...claims, data: { amount: "2.00" } })).not.toBe(fp(body));
  });

  it("another claim value, array order, method or target is another request", () => {
    const base = { aud: "x", iss: "o", iat: 1, jti: "j", data: { amount: "1.00", list: [1, 2] } };
    const reference = fp(jws(base));
    expect(fp(jws({ ...base, data: { amount: "1.01", list: [1, 2] } }))).not.toBe(reference);
    expect(fp(jws({ ...base, data: { amount: "1.00", list: [2, 1] } }))).not.toBe(reference);
    expect(fp(jws({ ...base, aud: "y" }))).not.toBe(reference);
    expect(fp(jws(base), { method: "PUT" })).not.toBe(reference);
    expect(fp(jws(base), { target: `${PATH}?x=1` })).not.toBe(reference);
  });

  it("any other body is compared byte for byte: JSON, and an application/jwt body that is not a compact JWS", () => {
    expect(fp('{"a":1,"b":2}', { type: "application/json" })).not.toBe(fp('{"b":2,"a":1}', { type: "application/json" }));
    expect(fp('{"a":1}', { type: "application/json" })).toBe(fp('{"a":1}', { type: "application/json" }));
    const payload = Buffer.from('{"data":1}').toString("base64url");
    // Four parts, a payload that is not base64url, a payload that is not a JSON object: the bytes themselves.
    expect(fp(`h.${payload}.s.t`)).not.toBe(fp(`h.${payload}.s.u`));
    expect(fp("h.pay+load.s1")).not.toBe(fp("h.pay+load.s2"));
    const array = Buffer.from("[1]").toString("base64url");
    expect(fp(`h.${array}.s1`)).not.toBe(fp(`h.${array}.s2`));
    expect(fp(`h.${payload}.s1`)).toBe(fp(`h.${payload}.s2`));
  });

  it("canonicalJson sorts members at every depth, keeps array order, and leaves out the names given for the outer object", () => {
    expect(canonicalJson({ b: [3, { d: 1, c: null }], a: "é\n", jti: "x" }, new Set(["jti"]))).toBe('{"a":"é\\n","b":[3,{"c":null,"d":1}]}');
    expect(canonicalJson({ inner: { jti: 1 } }, new Set(["jti"]))).toBe('{"inner":{"jti":1}}');
  });
});
