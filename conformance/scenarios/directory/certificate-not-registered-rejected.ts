import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "certificate-not-registered-rejected",
  area: "directory",
  title: "An Active participant presenting a certificate that is not a key of its software statement's transport.jwks is refused (403 DIRECTORY_KEY_UNREGISTERED) and nothing is forwarded",
  origin: [
    "docs/architecture.md, decision D6: require the certificate's thumbprint among the active keys of transport.jwks",
    "OFB DCR ID3 (software_jwks_transport_uri): <org_id>/<software_statement_id>/transport.jwks holds the active BRCAC transport keys; kid == x5t#S256 in the OFB TPP user guide's example — compute it from x5c[0]",
    "OFB certificate standard ID2 §9: look the certificate up in transport.jwks",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "participant-unregistered-key", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 403, code: "DIRECTORY_KEY_UNREGISTERED" });
  },
});
