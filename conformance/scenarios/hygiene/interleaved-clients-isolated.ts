import { headerValues, type Exchange } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";
import { sfBinary } from "../../lib/forgery.js";

const ROUNDS = 10;
const CLIENTS = ["participant-a", "participant-b"] as const;
type Client = (typeof CLIENTS)[number];

export default scenario({
  id: "interleaved-clients-isolated",
  area: "hygiene",
  title: "Two participants sending interleaved requests over their own kept-alive connections each reach the backend with their own certificate identity only, never the other's (even when claiming it in headers)",
  origin: [
    "RFC 8705 §3: the certificate is the one of the TLS connection the request arrived on",
    "RFC 9440 §2.4: Client-Cert is set by the TTRP for the connection's own client certificate; incoming copies are removed",
    "OIDF fapi1-advanced-final (AbstractFAPI1AdvancedFinalMultipleClient): two clients (mtls, mtls2) against one resource endpoint",
  ],
  requires: ["client", "token", "second-client", "recorder"],
  async run(t) {
    const who = {} as Record<Client, { creds: ReturnType<typeof t.client>; token: string; agent: ReturnType<typeof t.agent> }>;
    for (const name of CLIENTS) who[name] = { creds: t.client(name), token: await t.boundToken(name), agent: t.agent(name) };
    const other = (name: Client) => who[name === "participant-a" ? "participant-b" : "participant-a"].creds;
    t.check(who["participant-a"].creds.thumbprint !== who["participant-b"].creds.thumbprint, "the two clients hold different certificates");

    const sends: Promise<{ name: Client; res: Exchange }>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      for (const name of i % 2 === 0 ? CLIENTS : [...CLIENTS].reverse()) {
        const claimed = other(name);
        const headers: Record<string, string> = { "client-cert": sfBinary(claimed.leaf), "x-ofb-x5t-s256": claimed.thumbprint };
        if (claimed.organisationId) headers["x-ofb-organisation-id"] = claimed.organisationId;
        sends.push(t.send({ as: name, agent: who[name].agent, token: who[name].token, headers }).then((res) => ({ name, res })));
      }
    }
    const results = await Promise.all(sends);
    const refused = results.filter(({ res }) => res.status !== 200).map(({ name, res }) => `${name}: ${res.status} ${res.error ?? res.text.slice(0, 120)}`);
    t.check(refused.length === 0, `all ${results.length} interleaved requests were served`, refused);

    const problems: string[] = [];
    let profileFieldsSeen = 0;
    for (const { name, res } of results) {
      const mine = who[name].creds;
      const theirs = other(name);
      const got = await t.forwarded(res);
      const theirCert = sfBinary(theirs.leaf).slice(1, -1);
      for (const [k, v] of got.headers) {
        if (v.includes(theirs.thumbprint) || v.includes(theirCert) || (theirs.organisationId !== null && v.includes(theirs.organisationId))) problems.push(`${name}: ${k} carries the other participant's identity`);
      }
      if (JSON.stringify(headerValues(got, "authorization")) !== JSON.stringify([`Bearer ${who[name].token}`])) problems.push(`${name}: Authorization is not this client's token`);
      const expected: [string, string | null][] = [
        ["client-cert", sfBinary(mine.leaf)],
        ["x-ofb-x5t-s256", mine.thumbprint],
        ["x-ofb-organisation-id", mine.organisationId],
      ];
      for (const [field, value] of expected) {
        const lines = headerValues(got, field);
        if (lines.length === 0 && t.mode === "target") continue;
        profileFieldsSeen++;
        if (lines.length !== 1 || lines[0] !== value) problems.push(`${name}: ${field} is not this connection's (${lines.length} line(s))`);
      }
    }
    t.check(problems.length === 0, "every backend request carries only its own connection's certificate, thumbprint, organisation and token", problems.slice(0, 10));
    if (profileFieldsSeen === 0) t.note("the deployment forwards neither Client-Cert nor the ofb-identity fields: only the absence of the other participant's identity was checked");
  },
});
