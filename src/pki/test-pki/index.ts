/**
 * Test PKI: an ICP-Brasil-shaped hierarchy, every bad-case client certificate the edge's tests and
 * conformance suite need, and a consistent OFB Directory fixture. Test and development use only.
 */
export { generateTestPki, TestPkiExistsError, type GenerateTestPkiOptions } from "./generate.js";
export {
  loadTestCa,
  loadTestPki,
  MANIFEST_FILE,
  TEST_PKI_VERSION,
  testPkiManifestSchema,
  type TestPkiClient,
  type TestPkiManifest,
} from "./manifest.js";
export { createTestCa, testCaFromPem, type CreateTestCaOptions } from "./ca.js";
export {
  issueClientCertificate,
  issueServerCertificate,
  testExtension,
  type LeafOptions,
  type OtherNameEntry,
  type SubjectAltNameOptions,
} from "./leaf.js";
export { addDays, addHours, type IssuedCertificate, type SubjectInput, type TestCa } from "./certificate.js";
export { generateKeyPair, type HashName, type KeySpec } from "./keys.js";
export {
  caName,
  eCnpjSubject,
  encodeName,
  ofbSubject,
  reencodeName,
  signingSubject,
  OID,
  type OfbSubjectFields,
  type StringEncoding,
  type SubjectLayout,
  type TypedAttribute,
} from "./names.js";
export { formatCnpj, organisationId, randomCnpj, softwareStatementId, withCnpjCheckDigits } from "./identifiers.js";
export { CLIENT_CATALOGUE, type AnchorFileId, type ClientSpec, type KeystorePlacement } from "./client-catalogue.js";
export { BANK, SIGNING_KEYS, type SigningKeySpec, type TestBank } from "./signing.js";
export { messageSigner, testMessageSigner, type TestMessageOptions, type TestMessageSigner } from "./message.js";
