import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "customer-ip-address-ipv6-forwarded",
  area: "headers",
  title: "An IPv6 x-fapi-customer-ip-address is accepted and reaches the backend unchanged",
  origin: [
    "OIDF fapi1-advanced-final (AbstractFAPI1AdvancedFinalMultipleClient) resource steps: the resource request repeated with an IPv6 x-fapi-customer-ip-address → 200",
    "FAPI 1 Part 1 §6.2.1 / OFB OpenAPI request headers: x-fapi-customer-ip-address (1–100 characters); a valid one is not rejected",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    for (const address of ["2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:db8::8a2e:370:7334"]) {
      const res = await t.send({ as: "participant-a", token, headers: { "x-fapi-customer-ip-address": address } });
      t.expectStatus(res, 200);
      const got = headerValues(await t.forwarded(res), "x-fapi-customer-ip-address");
      t.check(got.length === 1 && got[0] === address, `the backend received x-fapi-customer-ip-address ${address} once, unchanged`, got);
    }
  },
});
