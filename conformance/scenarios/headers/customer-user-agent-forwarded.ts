import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "customer-user-agent-forwarded",
  area: "headers",
  title: "The customer's user agent (x-customer-user-agent) reaches the backend unchanged, next to the client's own User-Agent",
  origin: [
    "OFB OpenAPI (accounts 2.4.2 request headers): request header x-customer-user-agent",
    "RFC 9110 §7.6.1: an intermediary removes only hop-by-hop fields; end-to-end fields such as User-Agent are forwarded",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const customerAgent = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
    const clientAgent = "ofb-edge-conformance/1 (tpp-backend)";
    const res = await t.send({ as: "participant-a", token: await t.boundToken("participant-a"), headers: { "x-customer-user-agent": customerAgent, "user-agent": clientAgent } });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    const customer = headerValues(got, "x-customer-user-agent");
    t.check(customer.length === 1 && customer[0] === customerAgent, "the backend received x-customer-user-agent once, unchanged", customer);
    const agent = headerValues(got, "user-agent");
    t.check(agent.length === 1 && agent[0] === clientAgent, "the backend received the client's User-Agent once, unchanged", agent);
  },
});
