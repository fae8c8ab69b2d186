import { describe, expect, it } from "vitest";
import { memoryLimiterBackend } from "../../src/limits/backend.js";
import { createTrafficLimits } from "../../src/limits/traffic-limits.js";

/** The limits' decisions on the memory limiters: which counter applies, in which order, and what a refusal says. */

const A = { organisationId: "A0A0A0A0-1111-4222-8333-444455556666", softwareStatementId: "5a5a5a5a-1111-4222-8333-444455556666" };
const A2 = { ...A, softwareStatementId: "6b6b6b6b-1111-4222-8333-444455556666" };
const B = { organisationId: "b0b0b0b0-1111-4222-8333-444455556666", softwareStatementId: "7c7c7c7c-1111-4222-8333-444455556666" };
const route = (globalPerSecond?: number) => ({ name: "r", globalPerSecond });
const PAY = "/open-banking/payments/v4/pix/payments";

describe("traffic limits", () => {
  it("counts per software statement within the organisation's own limit, per API family; * covers the families without an entry", async () => {
    const limits = createTrafficLimits({ families: { payments: { organisation: { perMinute: 4 }, softwareStatement: { perMinute: 2 } }, "*": { organisation: { perMinute: 1 } } }, onStoreError: "open" }, memoryLimiterBackend());
    const go = async (caller: typeof A, path = PAY) => (await limits.check(route(), path, caller)).ok;
    expect([await go(A), await go(A)]).toEqual([true, true]);
    const third = await limits.check(route(), PAY, A);
    expect(third).toMatchObject({ ok: false, scope: "participant", detail: expect.stringContaining(`software statement ${A.softwareStatementId} over 2 requests per minute on payments`) });
    // Another software statement of the same organisation: its own statement budget, within the organisation's four
    // (a refused request still counts against its participant's windows), then over the organisation's.
    expect(await go(A2)).toBe(true);
    expect(await limits.check(route(), PAY, A2)).toMatchObject({ ok: false, detail: expect.stringContaining("organisation") });
    expect(await go(B)).toBe(true);
    // Families: consents falls under *, with its own counter per family.
    expect([await go(A, "/open-banking/consents/v3/consents"), await go(A, "/open-banking/consents/v3/consents")]).toEqual([true, false]);
    expect(await go(A, "/open-banking/accounts/v2/accounts")).toBe(true);
    // Organisation ids compare without regard to case (the certificate may spell them either way).
    expect(await limits.check(route(), "/open-banking/accounts/v2/accounts", { ...A, organisationId: A.organisationId.toLowerCase() })).toMatchObject({ ok: false });
  });

  it("the global ceiling counts every participant; a request refused for its participant does not use it up; Retry-After is at least 1 s", async () => {
    const limits = createTrafficLimits({ families: { payments: { organisation: { perMinute: 1 } } }, onStoreError: "open" }, memoryLimiterBackend());
    expect((await limits.check(route(2), PAY, A)).ok).toBe(true);
    // A's next requests are over its own limit: refused as participant, the global point given back.
    for (let i = 0; i < 5; i++) expect(await limits.check(route(2), PAY, A)).toMatchObject({ ok: false, scope: "participant", retryAfterSeconds: expect.any(Number) });
    // B (no participant limit on accounts) takes the second global point; the third request of the second is over.
    expect((await limits.check(route(2), "/open-banking/accounts/v2/accounts", B)).ok).toBe(true);
    const over = await limits.check(route(2), "/open-banking/accounts/v2/accounts", A2);
    expect(over).toMatchObject({ ok: false, scope: "global" });
    if (!over.ok && over.scope !== "store") {
      expect(over.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(over.retryAfterSeconds).toBeLessThanOrEqual(1);
    }
  });

  it("without a caller (no verified certificate) only the global ceiling applies; with no counter at all nothing is consumed", async () => {
    const limits = createTrafficLimits({ families: { "*": { organisation: { perSecond: 1 } } }, onStoreError: "open" }, memoryLimiterBackend());
    for (let i = 0; i < 3; i++) expect((await limits.check(route(), PAY, null)).ok).toBe(true);
    expect((await limits.check(route(1), PAY, null)).ok).toBe(true);
    expect(await limits.check(route(1), PAY, null)).toMatchObject({ ok: false, scope: "global" });
  });
});
