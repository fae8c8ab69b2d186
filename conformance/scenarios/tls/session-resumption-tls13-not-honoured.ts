import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "session-resumption-tls13-not-honoured",
  area: "tls",
  title: "A TLS 1.3 client offering a ticket from its previous connection gets a full handshake (or is given no ticket at all)",
  origin: [
    "OFB Security Profile ID3 §Secure use of TLS: TLS session resumption shall be disabled",
    "RFC 9440 §3: a resumed session may not carry the client certificate (disable resumption)",
  ],
  requires: [],
  async run(t) {
    const as = t.has("client") ? "participant-a" : null;
    const tls13 = { as, minVersion: "TLSv1.3", maxVersion: "TLSv1.3" } as const;
    const first = await t.handshake(tls13);
    if (!first.ok) return t.fail("a first TLS 1.3 handshake completes", first.error);
    t.check(true, "a first TLS 1.3 handshake completes");
    // NewSessionTicket messages arrive after the handshake; a connection the server ended meanwhile (a listener that
    // requires a certificate and got none) says nothing about tickets.
    const tickets = await t.sessionsAfter(first, 300);
    if (tickets.length === 0 && first.socket.destroyed) {
      if (as === null) t.skipScenario("the listener ended the certificate-less TLS 1.3 connection before any ticket could arrive (give --client-cert)");
      return t.fail("the first TLS 1.3 connection stays open", "closed by the server");
    }
    if (tickets.length === 0) {
      t.check(true, "the server issues no TLS 1.3 session ticket");
      return;
    }
    t.note(`the server issued ${tickets.length} TLS 1.3 session ticket(s); resuming with them was tried`);
    for (const [i, ticket] of tickets.entries()) {
      const again = await t.handshake({ ...tls13, session: ticket });
      if (!again.ok) return t.fail(`a TLS 1.3 handshake offering ticket ${i + 1} completes`, again.error);
      t.check(!again.reused, `ticket ${i + 1} is not honoured (full handshake, no PSK resumption)`, "session reused");
    }
  },
});
