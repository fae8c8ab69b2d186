import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "session-resumption-tls12-not-honoured",
  area: "tls",
  title: "A TLS 1.2 client gets no session ticket, and offering its previous session on a new connection gets a full handshake",
  origin: [
    "OFB Security Profile ID3 §Secure use of TLS: TLS session resumption shall be disabled",
    "RFC 9440 §3: a resumed session may not carry the client certificate (disable resumption)",
  ],
  requires: [],
  async run(t) {
    const as = t.has("client") ? "participant-a" : null;
    const tls12 = { as, minVersion: "TLSv1.2", maxVersion: "TLSv1.2" } as const;
    const first = await t.handshake(tls12);
    if (!first.ok) return t.fail("a first TLS 1.2 handshake completes", `${first.error}${as ? "" : " (no client certificate presented: give --client-cert if the listener requires one)"}`);
    t.check(!first.socket.getTLSTicket(), "the server issues no TLS 1.2 session ticket (RFC 5077 NewSessionTicket)", "a ticket");
    const offered = (await t.sessionsAfter(first, 100)).at(-1);
    if (offered === undefined) {
      t.check(true, "the client was given no session state to offer");
      return;
    }
    const second = await t.handshake({ ...tls12, session: offered });
    if (!second.ok) return t.fail("a second TLS 1.2 handshake offering the first session completes", second.error);
    t.check(!second.reused, "the offered session is not resumed (full handshake)", "session reused");
  },
});
