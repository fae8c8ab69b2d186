import { scenario } from "../../../src/conformance/scenario.js";
import { expectSuiteNegotiated } from "../../lib/tls.js";

const SUITE = "ECDHE-RSA-AES128-GCM-SHA256";

export default scenario({
  id: "tls12-ecdhe-rsa-aes128-gcm-accepted",
  area: "tls",
  title: "A TLS 1.2 client offering only TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 completes the handshake with exactly that suite",
  origin: [
    "OFB Security Profile ID3 §Secure use of TLS: endpoints used directly by clients shall support TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "FAPI 1 Part 2 §8.5: TLS 1.2 only with ECDHE_RSA/DHE_RSA and AES_128_GCM_SHA256/AES_256_GCM_SHA384",
  ],
  requires: [],
  run: (t) => expectSuiteNegotiated(t, SUITE),
});
