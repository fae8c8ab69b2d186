import { scenario } from "../../../src/conformance/scenario.js";
import { serverHello } from "../../lib/tls.js";

export default scenario({
  id: "probe-without-certificate-gets-server-hello",
  area: "tls",
  title: "A TLS 1.2 and a TLS 1.3 client that present no certificate both reach the ServerHello (a certificate requirement may end the handshake only after it)",
  origin: [
    "OIDF conformance suite EnsureTLS12WithFAPICiphers: the TLS probes send no client certificate and stop at ServerHello; our reading: an edge that refuses before ServerHello (gating on SNI or certificate at ClientHello) fails EnsureTLS12WithFAPICiphers",
    "OIDF conformance suite: EnsureTLS12WithFAPICiphers; AbstractDisallowTLSVersion (probes without client certificate)",
    "docs/architecture.md, decision D3: a strict listener fails the handshake, a permissive one completes it; both after ServerHello",
  ],
  requires: [],
  async run(t) {
    const probes = [
      { version: "TLS 1.2", options: { minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384" } },
      { version: "TLS 1.3", options: { minVersion: "TLSv1.3", maxVersion: "TLSv1.3" } },
    ] as const;
    for (const { version, options } of probes) {
      const hello = await serverHello(t, options);
      if ("error" in hello) return t.fail(`a ${version} client without a certificate gets a ServerHello`, hello.error);
      t.check(true, `a ${version} client without a certificate gets a ServerHello (${hello.protocol}, ${hello.cipher}; ${hello.ending})`);
      t.equal(hello.protocol, version === "TLS 1.2" ? "TLSv1.2" : "TLSv1.3", `the ${version} ServerHello's version`);
    }
  },
});
