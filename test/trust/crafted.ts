import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
  Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from "@peculiar/asn1-x509";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { caName } from "../../src/pki/test-pki/index.js";

/**
 * Self-signed CA certificates the test PKI cannot mint, built field by field: the key types of the
 * ICP-Brasil roots that defeat common stacks (found in ITI zips: Ed448, an undecodable key OID, explicit EC parameters).
 */
function selfSigned(commonName: string, spki: SubjectPublicKeyInfo, signatureAlgorithm: AlgorithmIdentifier, signer: (tbs: Buffer) => Buffer): Uint8Array {
  const name = AsnConvert.parse(caName({ organization: "ICP-Brasil TESTE", commonName }).toArrayBuffer(), Name);
  const extension = (extnID: string, value: BasicConstraints | KeyUsage) =>
    new Extension({ extnID, critical: true, extnValue: new OctetString(AsnConvert.serialize(value)) });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(randomBytes(8).map((b, i) => (i === 0 ? (b & 0x7f) | 1 : b))).buffer,
    signature: signatureAlgorithm,
    issuer: name,
    subject: name,
    validity: new Validity({ notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 3650 * 86_400_000) }),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      extension(id_ce_basicConstraints, new BasicConstraints({ cA: true })),
      extension(id_ce_keyUsage, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
    ]),
  });
  const signatureValue = new Uint8Array(signer(Buffer.from(AsnConvert.serialize(tbs)))).buffer;
  return new Uint8Array(AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm, signatureValue })));
}

/** Like root v6: an Ed448 key (id-Ed448 1.3.101.113), which Node parses and verifies. */
export function ed448Root(commonName: string): Uint8Array {
  const { publicKey, privateKey } = generateKeyPairSync("ed448");
  const spki = AsnConvert.parse(publicKey.export({ type: "spki", format: "der" }), SubjectPublicKeyInfo);
  return selfSigned(commonName, spki, new AlgorithmIdentifier({ algorithm: "1.3.101.113" }), (tbs) => sign(null, tbs, privateKey));
}

/** Like root v7: key OID 1.3.6.1.4.1.44588.2.1, a 66-byte key and a 132-byte signature that nothing can check. */
export function unknownKeyRoot(commonName: string): Uint8Array {
  const algorithm = new AlgorithmIdentifier({ algorithm: "1.3.6.1.4.1.44588.2.1" });
  const spki = new SubjectPublicKeyInfo({ algorithm, subjectPublicKey: new Uint8Array(randomBytes(66)).buffer });
  return selfSigned(commonName, spki, algorithm, () => randomBytes(132));
}

/** Like roots v4/v13: an EC key whose curve is given by explicit parameters instead of a named-curve OID. */
export function explicitCurveRoot(commonName: string): Uint8Array {
  // ECParameters stand-in: SEQUENCE { INTEGER 1 } is enough to be "not an OID" (RFC 3279 §2.3.5).
  const parameters = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]).buffer;
  const spki = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: "1.2.840.10045.2.1", parameters }),
    subjectPublicKey: new Uint8Array([0x04, ...randomBytes(128)]).buffer,
  });
  return selfSigned(commonName, spki, new AlgorithmIdentifier({ algorithm: "1.2.840.10045.4.3.4" }), () => randomBytes(132));
}
