import { X509Certificate, createHash, generateKeyPairSync, KeyObject, sign } from "node:crypto";
import { createPeerEvaluator, type VerifiedClient } from "../../src/connection/peer-state.js";
import { certificateParts } from "../../src/identity/parse.js";
import { loadTrustAnchors } from "../../src/pki/anchors.js";
import { createChainPolicy } from "../../src/pki/policy.js";
import { sha256Hex } from "../../src/pki/thumbprint.js";
import { createTestCa } from "../../src/pki/test-pki/ca.js";
import { extension, name, oid, sequence, stringValue, time, tlv, type NameAttribute, type StringType } from "./property-der.js";

/**
 * The PKI of the property tests: a root made once with @peculiar/x509 (the test-pki generator), and per
 * property run an AC with an arbitrary subject (signed by the root) and a leaf with an arbitrary subject,
 * serial, validity and subjectAltName (signed by the AC). Keys are P-256 and generated once, so a run
 * costs two ECDSA signatures. Certificates are written with property-der.ts so every value keeps the
 * exact octets and string type the generator chose.
 *
 * The leaf then goes through the edge's own acceptance path, as `ofb-edge inspect` does: OpenSSL (Node's
 * X509Certificate) parses both certificates and checks each signature and issuer link in place of the
 * handshake, and `createPeerEvaluator` runs the OFB chain policy and identity parsing. Only an accepted
 * client reaches header profiles, so the leaf keeps what that path demands (organizationIdentifier
 * `OFBBR-<uuid>`, a non-blank UID, a valid CNPJ or none, clientAuth, digitalSignature); everything else is
 * arbitrary, and the AC's subject (which no identity rule reads) is arbitrary in every attribute.
 */

/** One attribute value as generated: type OID, text, ASN.1 string type, and whether it shares the previous attribute's RDN. */
export interface AttributeSpec {
  readonly oid: string;
  readonly text: string;
  readonly type: StringType;
  readonly joinPrevious: boolean;
}

/** A subjectAltName dNSName or URI, written as Latin-1 octets when it can be, UTF-8 otherwise. */
export interface SanSpec {
  readonly kind: "dns" | "uri";
  readonly text: string;
}

export interface CertSpec {
  readonly subject: readonly AttributeSpec[];
  /** The AC's subject, hence the leaf's issuer. */
  readonly issuer: readonly AttributeSpec[];
  readonly sans: readonly SanSpec[];
  /** serialNumber INTEGER content octets (minimal, possibly negative). */
  readonly serial: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** An accepted client and the facts the properties compare against, read from the DER independently of the engine. */
export interface IssuedClient {
  readonly client: VerifiedClient;
  readonly leaf: Uint8Array;
  readonly ac: Uint8Array;
  /** The subject Name exactly as encoded in the leaf. */
  readonly subjectDer: Uint8Array;
  /** SAN text as a header carries it: the IA5String octets read as Latin-1, in certificate order. */
  readonly dns: readonly string[];
  readonly uri: readonly string[];
}

const ECDSA_WITH_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));
const V3 = tlv(0xa0, tlv(0x02, Uint8Array.of(2)));
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
// BIT STRINGs of KeyUsage (RFC 5280 §4.2.1.3): keyCertSign|cRLSign, and digitalSignature|keyEncipherment.
const CA_KEY_USAGE = tlv(0x03, Uint8Array.of(0x01, 0x06));
const LEAF_KEY_USAGE = tlv(0x03, Uint8Array.of(0x05, 0xa0));

function rdns(attributes: readonly AttributeSpec[]): NameAttribute[][] {
  const out: NameAttribute[][] = [];
  for (const a of attributes) {
    const value = { oid: a.oid, value: stringValue(a.type, a.text) };
    const last = out[out.length - 1];
    if (a.joinPrevious && last) last.push(value);
    else out.push([value]);
  }
  return out;
}

export function sanOctets(text: string): Buffer {
  return /^[\u0000-\u00ff]*$/.test(text) ? Buffer.from(text, "latin1") : Buffer.from(text, "utf8");
}

function subjectAltName(sans: readonly SanSpec[]): Uint8Array {
  // GeneralName [2] dNSName and [6] uniformResourceIdentifier, IMPLICIT IA5String (RFC 5280 §4.2.1.6).
  return sequence(...sans.map((s) => tlv(s.kind === "dns" ? 0x82 : 0x86, sanOctets(s.text))));
}

function certificate(tbs: Uint8Array, issuerKey: KeyObject): Uint8Array {
  const signature = sign("sha256", tbs, { key: issuerKey, dsaEncoding: "der" });
  return sequence(tbs, ECDSA_WITH_SHA256, tlv(0x03, Uint8Array.of(0), signature));
}

function tbs(fields: { serial: Uint8Array; issuer: Uint8Array; notBefore: Date; notAfter: Date; subject: Uint8Array; key: KeyObject; extensions: Uint8Array[] }): Uint8Array {
  const spki = new Uint8Array(fields.key.export({ type: "spki", format: "der" }));
  return sequence(
    V3,
    tlv(0x02, fields.serial),
    ECDSA_WITH_SHA256,
    fields.issuer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    spki,
    tlv(0xa3, sequence(...fields.extensions)),
  );
}

/** Builds the root and keys once; `issue` then mints and evaluates one client per call. */
export async function createPropertyPki() {
  const root = await createTestCa({ subject: [{ "2.5.4.3": ["ofb-edge property root"] }], key: { algorithm: "ECDSA", namedCurve: "P-256" } });
  const rootKey = KeyObject.from(root.keys.privateKey);
  const rootX509 = new X509Certificate(root.der);
  const rootSubject = certificateParts(root.der)!.subject;
  const acKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const leafKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const now = Date.now();
  const evaluator = createPeerEvaluator({
    evaluateChain: createChainPolicy({
      anchors: loadTrustAnchors([{ source: "property root", text: root.pem }]),
      transportRoots: new Set([sha256Hex(root.der)]),
      minRsaBits: 2048,
      requireIntermediate: true,
      now: () => now,
    }),
    allowOpenInsurance: false,
  });

  /** What OpenSSL would say of the path in the handshake (validity aside, which the edge checks per request). */
  function pathError(leaf: Uint8Array, ac: Uint8Array): string | null {
    const [l, a] = [new X509Certificate(leaf), new X509Certificate(ac)];
    if (!l.checkIssued(a) || !l.verify(a.publicKey)) return "UNABLE_TO_VERIFY_LEAF_SIGNATURE";
    if (!a.checkIssued(rootX509) || !a.verify(rootX509.publicKey)) return "UNABLE_TO_GET_ISSUER_CERT_LOCALLY";
    return null;
  }

  function issue(spec: CertSpec): IssuedClient {
    const acSubject = name(rdns(spec.issuer));
    const ac = certificate(
      tbs({
        serial: Uint8Array.of(0x01),
        issuer: rootSubject,
        notBefore: new Date(now - 86_400_000),
        notAfter: new Date(now + 3650 * 86_400_000),
        subject: acSubject,
        key: acKeys.publicKey,
        extensions: [extension("2.5.29.19", true, sequence(Uint8Array.of(0x01, 0x01, 0xff), tlv(0x02, Uint8Array.of(0)))), extension("2.5.29.15", true, CA_KEY_USAGE)],
      }),
      rootKey,
    );
    const subjectDer = name(rdns(spec.subject));
    const leaf = certificate(
      tbs({
        serial: spec.serial,
        issuer: acSubject,
        notBefore: spec.notBefore,
        notAfter: spec.notAfter,
        subject: subjectDer,
        key: leafKeys.publicKey,
        extensions: [
          extension("2.5.29.19", false, sequence()),
          extension("2.5.29.15", true, LEAF_KEY_USAGE),
          extension("2.5.29.37", false, sequence(oid(CLIENT_AUTH))),
          ...(spec.sans.length > 0 ? [extension("2.5.29.17", false, subjectAltName(spec.sans))] : []),
        ],
      }),
      acKeys.privateKey,
    );
    const state = evaluator.evaluate({
      leaf,
      leafSha256: createHash("sha256").update(leaf).digest("hex"),
      opensslError: pathError(leaf, ac),
      chain: () => [leaf, ac],
    });
    if (state.status !== "accepted") {
      // The generators keep every leaf acceptable: a rejection here is a generator (or policy) surprise, not a profile result.
      throw new Error(`the edge did not accept the generated client: ${state.status === "rejected" ? `${state.failure.code} ${state.failure.detail}` : state.status}`);
    }
    const text = (kind: SanSpec["kind"]) => spec.sans.filter((s) => s.kind === kind).map((s) => sanOctets(s.text).toString("latin1"));
    return { client: state.client, leaf, ac, subjectDer, dns: text("dns"), uri: text("uri") };
  }

  return { issue };
}
