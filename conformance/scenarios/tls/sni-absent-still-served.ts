import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "sni-absent-still-served",
  area: "tls",
  title: "A client that sends no SNI still completes the handshake and gets the same server certificate as one that does",
  origin: [
    "OIDF conformance suite (our reading of its TLS probes): an edge that refuses before ServerHello, for example gating on SNI at ClientHello, fails the OIDF TLS probes (EnsureTLS12WithFAPICiphers)",
  ],
  requires: [],
  async run(t) {
    const as = t.has("client") ? "participant-a" : null;
    /** The server certificate's SHA-256 fingerprint, read as soon as the handshake completes. */
    const serverCertificate = async (sni: boolean) => {
      // An empty servername makes node:tls leave the server_name extension out.
      const h = await t.handshake({ as, ...(sni ? {} : { servername: "" }) });
      if (!h.ok) return t.fail(`a handshake ${sni ? "with" : "without"} SNI completes`, h.error);
      t.check(true, `a handshake ${sni ? "with" : "without"} SNI completes`);
      const fingerprint = h.socket.getPeerCertificate().fingerprint256;
      t.check(typeof fingerprint === "string", `the server presents a certificate ${sni ? "with" : "without"} SNI`, fingerprint);
      return fingerprint;
    };
    const withSni = await serverCertificate(true);
    t.equal(await serverCertificate(false), withSni, "the server certificate's SHA-256 fingerprint without SNI (same as with SNI)");
  },
});
