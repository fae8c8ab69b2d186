import { randomUUID } from "node:crypto";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "interaction-id-invalid-rejected",
  area: "headers",
  title: "On an Open Finance API, an x-fapi-interaction-id that is not one UUID of at most 36 characters (not a UUID, empty, 37 characters, braces, two header lines) is refused with 400 INTERACTION_ID_INVALID, a new UUID in place of the invalid value, and nothing forwarded",
  origin: [
    "OFB API contract accounts 2.4.2: pattern ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$, maxLength 36; if invalid, generate one and return it with HTTP 400",
    "OFB Security Profile ID3 item 23: deny requests without a (usable) x-fapi-interaction-id on FAPI endpoints",
    "OIDF conformance suite (suite as RS): ValidateFAPIInteractionIdInResourceRequest — the request id must be a UUID",
  ],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const a = randomUUID();
    const b = randomUUID();
    const cases: { what: string; value: string | string[] }[] = [
      { what: "not a UUID", value: "not-a-uuid" },
      { what: "empty", value: "" },
      { what: "37 characters", value: `${randomUUID()}0` },
      { what: "a UUID in braces", value: `{${randomUUID()}}` },
      { what: "a UUID without dashes", value: randomUUID().replace(/-/g, "") },
      { what: "two header lines", value: [a, b] },
    ];
    for (const c of cases) {
      const res = await t.send({ as: "participant-a", token, interactionId: false, headers: { "x-fapi-interaction-id": c.value } });
      t.check(res.status === 400, `${c.what}: HTTP status 400`, res.status === 0 ? res.error : `${res.status} ${res.text.slice(0, 200)}`);
      await t.expectRejected(res, { status: 400, code: "INTERACTION_ID_INVALID" });
      const sent = typeof c.value === "string" ? [c.value] : [...c.value, c.value.join(", ")];
      const got = res.headers["x-fapi-interaction-id"];
      t.check(typeof got === "string" && !sent.includes(got), `${c.what}: the response carries a generated id, not the invalid value`, got);
    }
  },
});
