import { scenario } from "../../../src/conformance/scenario.js";
import { serverHello } from "../../lib/tls.js";

/** What the OIDF probe offers: the FAPI 1 TLS 1.2 suites and the TLS 1.3 AEAD suites. */
const TLS12 = ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"];
const TLS13 = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

export default scenario({
  id: "fapi-cipher-probe-accepted",
  area: "tls",
  title: "A client without a certificate offering TLS 1.2 and 1.3 with only the FAPI suites gets a ServerHello for TLS 1.2 or 1.3 with one of them",
  origin: [
    "OIDF conformance suite: EnsureTLS12WithFAPICiphers — offers TLS 1.2 + 1.3 with TLS_{ECDHE,DHE}_RSA_WITH_AES_{128_GCM_SHA256,256_GCM_SHA384} and TLS 1.3 AES_128_GCM/AES_256_GCM/CHACHA20_POLY1305, no client certificate, aborts after ServerHello; passes when the server answers TLS 1.2 or 1.3",
    "OIDF conformance suite EnsureTLS12WithFAPICiphers aborts right after ServerHello: an edge gating before ServerHello fails this probe",
  ],
  requires: [],
  async run(t) {
    const hello = await serverHello(t, { minVersion: "TLSv1.2", maxVersion: "TLSv1.3", ciphers: [...TLS13, ...TLS12].join(":") });
    if ("error" in hello) return t.fail("the server answers with a ServerHello", hello.error);
    t.check(true, "the server answers with a ServerHello");
    t.check(hello.protocol === "TLSv1.2" || hello.protocol === "TLSv1.3", "the ServerHello selects TLS 1.2 or TLS 1.3", hello.protocol);
    t.check([...TLS12, ...TLS13].includes(hello.cipher), "the ServerHello selects one of the offered FAPI suites", hello.cipher);
    if (!hello.completed) t.note(`the handshake then failed without a client certificate (${hello.protocol}, ${hello.cipher}): a listener that requires one`);
  },
});
