import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "customer-ip-address-ipv4-forwarded",
  area: "headers",
  title: "An IPv4 x-fapi-customer-ip-address is accepted and reaches the backend unchanged",
  origin: [
    "OIDF fapi1-advanced-final (AbstractFAPI1AdvancedFinalMultipleClient) resource steps: GET with an IPv4 x-fapi-customer-ip-address → 200",
    "FAPI 1 Part 1 §6.2.1 / OFB OpenAPI request headers: x-fapi-customer-ip-address (1–100 characters); a valid one is not rejected",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const address = "198.51.100.23";
    const res = await t.send({ as: "participant-a", token: await t.boundToken("participant-a"), headers: { "x-fapi-customer-ip-address": address } });
    t.expectStatus(res, 200);
    const got = headerValues(await t.forwarded(res), "x-fapi-customer-ip-address");
    t.check(got.length === 1 && got[0] === address, "the backend received x-fapi-customer-ip-address once, unchanged", got);
  },
});
