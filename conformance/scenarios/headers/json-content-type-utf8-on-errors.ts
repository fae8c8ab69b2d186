import { scenario } from "../../../src/conformance/scenario.js";

const JSON_UTF8 = /^application\/json;\s*charset="?utf-8"?$/i;

export default scenario({
  id: "json-content-type-utf8-on-errors",
  area: "headers",
  title: "The edge's error responses are application/json; charset=utf-8 also when the client sends the Accept and Accept-Charset variants of the OIDF FAPI tests",
  origin: [
    "OFB API contract accounts 2.4.2: ResponseErrorMetaSingle as Content-Type application/json; charset=utf-8",
    "OIDF conformance suite: EnsureResourceResponseReturnedJsonContentType — type application/json, a charset if present UTF-8",
    "OIDF fapi1-advanced-final resource steps: repeated with Accept: application/json; charset=UTF-8 + Accept-Charset: UTF-8, and with Accept: application/json, application/*+json, */*",
  ],
  requires: ["client"],
  async run(t) {
    const variants: { what: string; headers: Record<string, string> }[] = [
      { what: "no Accept", headers: {} },
      { what: "Accept: application/json; charset=UTF-8 with Accept-Charset: UTF-8", headers: { accept: "application/json; charset=UTF-8", "accept-charset": "UTF-8" } },
      { what: "Accept: application/json, application/*+json, */*", headers: { accept: "application/json, application/*+json, */*" } },
    ];
    for (const v of variants) {
      const res = await t.send({ as: "participant-a", headers: v.headers });
      t.check(res.status === 401, `${v.what}: HTTP status 401`, res.status === 0 ? res.error : `${res.status} ${res.text.slice(0, 200)}`);
      await t.expectRejected(res, { status: 401, code: "TOKEN_MISSING" });
      const type = res.headers["content-type"];
      t.check(typeof type === "string" && JSON_UTF8.test(type), `${v.what}: Content-Type is application/json; charset=utf-8`, type);
      t.check(Buffer.from(res.text, "utf8").equals(res.body), `${v.what}: the body is well-formed UTF-8`);
    }
  },
});
