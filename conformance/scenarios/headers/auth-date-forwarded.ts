import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "auth-date-forwarded",
  area: "headers",
  title: "An x-fapi-auth-date (the customer's last login, an RFC 7231 date) is accepted and reaches the backend unchanged",
  origin: [
    "OIDF fapi1-advanced-final (AbstractFAPI1AdvancedFinalMultipleClient) resource steps: GET with x-fapi-auth-date → 200",
    "OIDF OFB pre-authorization steps (OpenBankingBrazilPreAuthorizationSteps): consent calls carry x-fapi-auth-date",
    "OFB OpenAPI (accounts 2.4.2 request headers): x-fapi-auth-date is an RFC 7231 date of exactly 29 characters",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const authDate = new Date(Date.now() - 3_600_000).toUTCString();
    t.equal(authDate.length, 29, "the x-fapi-auth-date sent is 29 characters long");
    const res = await t.send({ as: "participant-a", token: await t.boundToken("participant-a"), headers: { "x-fapi-auth-date": authDate } });
    t.expectStatus(res, 200);
    const got = headerValues(await t.forwarded(res), "x-fapi-auth-date");
    t.check(got.length === 1 && got[0] === authDate, "the backend received x-fapi-auth-date once, unchanged", got);
  },
});
