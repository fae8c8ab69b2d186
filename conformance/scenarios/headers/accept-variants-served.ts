import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "accept-variants-served",
  area: "headers",
  title: "Requests with the Accept and Accept-Charset variants of the OIDF FAPI happy path are served, with those headers passed to the backend unchanged",
  origin: [
    "OIDF fapi1-advanced-final (AbstractFAPI1AdvancedFinalMultipleClient) resource steps: repeated with Accept: application/json; charset=UTF-8 + Accept-Charset: UTF-8, and with Accept: application/json, application/*+json, */* → 200",
    "OIDF conformance suite: EnsureResourceResponseReturnedJsonContentType on those responses",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const variants: Record<string, string>[] = [
      { accept: "application/json; charset=UTF-8", "accept-charset": "UTF-8" },
      { accept: "application/json, application/*+json, */*" },
    ];
    for (const headers of variants) {
      const res = await t.send({ as: "participant-a", token, headers });
      t.expectStatus(res, 200);
      t.expectJsonUtf8(res);
      const got = await t.forwarded(res);
      for (const [name, value] of Object.entries(headers)) {
        const seen = headerValues(got, name);
        t.check(seen.length === 1 && seen[0] === value, `the backend received ${name}: ${value} unchanged`, seen);
      }
    }
  },
});
