import { createHash, createPrivateKey, sign } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  KeyHash,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
} from "@peculiar/asn1-ocsp";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, CRLReason, Certificate, Extension, SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import type { IssuedCertificate } from "../../src/pki/test-pki/index.js";

/** How one path answers: a signed OCSP response built for the CertID asked about, or an HTTP failure. */
export interface OcspRoute {
  /** Signs the response; the ResponderID names it. */
  readonly signer: IssuedCertificate;
  readonly responderId?: "byKey" | "byName";
  /** The ResponderID names this certificate instead of the signer (a response claiming to come from the AC). */
  readonly namedAs?: IssuedCertificate;
  /** Included in `certs` (a delegated responder sends its own certificate). */
  readonly certs?: readonly IssuedCertificate[];
  /** Serials (hex) answered revoked, with time and RFC 5280 reason code; every other serial is good. */
  readonly revoked?: Readonly<Record<string, { readonly at: Date; readonly reason?: number }>>;
  /** Serials (hex) answered unknown. */
  readonly unknown?: readonly string[];
  readonly thisUpdate: Date;
  /** `null`: no nextUpdate. */
  readonly nextUpdate: Date | null;
  /** echo (default): the request's nonce, when it has one; other: a different nonce; omit: none. */
  readonly nonce?: "echo" | "other" | "omit";
  /** other-serial: the SingleResponse names another certificate. */
  readonly certId?: "echo" | "other-serial";
  /** A status other than successful (no responseBytes). */
  readonly responseStatus?: OCSPResponseStatus;
  /** Answer this late (concurrent requests overlap). */
  readonly delayMs?: number;
}

export type OcspHttpRoute = { readonly status: number } | { readonly garbage: Uint8Array } | { readonly hang: true };

/** One request as received. */
export interface ReceivedOcspRequest {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly serial: string;
  readonly hashAlgorithm: string;
  readonly nonce: Uint8Array | null;
}

const SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
const ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";

/**
 * A plain-HTTP OCSP responder on 127.0.0.1 (RFC 6960 Appendix A.1, POST): per-path answers generated with
 * @peculiar/asn1-ocsp and signed with the test PKI's keys, and a record of every request.
 */
export async function startOcspResponder() {
  const routes = new Map<string, OcspRoute | OcspHttpRoute>();
  const received: ReceivedOcspRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const route = routes.get(path) ?? { status: 404 };
      let request: OCSPRequest;
      try {
        request = AsnConvert.parse(Buffer.concat(chunks), OCSPRequest);
      } catch {
        return void res.writeHead(400).end();
      }
      const reqCert = request.tbsRequest.requestList[0]!.reqCert;
      const nonceExt = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
      const nonce = nonceExt ? new Uint8Array(nonceExt.extnValue.buffer) : null;
      received.push({ path, contentType: req.headers["content-type"], serial: hex(reqCert.serialNumber), hashAlgorithm: reqCert.hashAlgorithm.algorithm, nonce });
      if ("hang" in route) return void hanging.add(res);
      if ("status" in route) return void res.writeHead(route.status).end();
      if ("garbage" in route) return void res.writeHead(200, { "content-type": "application/ocsp-response" }).end(route.garbage);
      const body = respond(route, reqCert, nonce);
      setTimeout(() => res.writeHead(200, { "content-type": "application/ocsp-response", "content-length": body.length }).end(body), route.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path: string) => `${base}${path}`,
    serve: (path: string, route: OcspRoute | OcspHttpRoute) => void routes.set(path, route),
    hits: (path: string) => received.filter((r) => r.path === path).length,
    received: (path: string) => received.filter((r) => r.path === path),
    close: async () => {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type OcspResponder = Awaited<ReturnType<typeof startOcspResponder>>;

/** The DER OCSPResponse `route` gives for `reqCert`. */
function respond(route: OcspRoute, reqCert: CertID, nonce: Uint8Array | null): Buffer {
  if (route.responseStatus !== undefined) return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: route.responseStatus })));
  const serial = hex(reqCert.serialNumber);
  const revoked = Object.entries(route.revoked ?? {}).find(([s]) => hex(s) === serial)?.[1];
  const certStatus = revoked
    ? new CertStatus({ revoked: new RevokedInfo({ revocationTime: revoked.at, ...(revoked.reason !== undefined ? { revocationReason: new CRLReason(revoked.reason) } : {}) }) })
    : route.unknown?.some((s) => hex(s) === serial)
      ? new CertStatus({ unknown: null })
      : new CertStatus({ good: null });
  const certID = route.certId === "other-serial" ? new CertID({ ...reqCert, serialNumber: Uint8Array.of(0x7f, 0x01, 0x02).buffer }) : reqCert;
  const single = new SingleResponse({ certID, certStatus, thisUpdate: route.thisUpdate, ...(route.nextUpdate ? { nextUpdate: route.nextUpdate } : {}) });
  const echoed = route.nonce === "omit" || !nonce ? null : route.nonce === "other" ? new Uint8Array(AsnConvert.serialize(new OctetString(new Uint8Array(32).fill(7)))) : nonce;
  const named = route.namedAs ?? route.signer;
  const responderID =
    route.responderId === "byName"
      ? new ResponderID({ byName: AsnConvert.parse(named.der, Certificate).tbsCertificate.subject })
      : new ResponderID({ byKey: new KeyHash(publicKeyHash(named)) });
  const tbsResponseData = new ResponseData({
    responderID,
    producedAt: route.thisUpdate,
    responses: [single],
    ...(echoed ? { responseExtensions: [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(echoed) })] } : {}),
  });
  const tbs = Buffer.from(AsnConvert.serialize(tbsResponseData));
  const key = createPrivateKey(route.signer.keyPem);
  const algorithm = key.asymmetricKeyType === "ec" ? new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }) : new AlgorithmIdentifier({ algorithm: SHA256_WITH_RSA, parameters: null });
  const basic = new BasicOCSPResponse({
    tbsResponseData,
    signatureAlgorithm: algorithm,
    signature: new Uint8Array(sign("sha256", tbs, key)).buffer,
    ...(route.certs ? { certs: route.certs.map((c) => AsnConvert.parse(c.der, Certificate)) } : {}),
  });
  const response = new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
  });
  return Buffer.from(AsnConvert.serialize(response));
}

/** SHA-1 of the subjectPublicKey BIT STRING value (RFC 6960 §4.2.1 KeyHash). */
function publicKeyHash(cert: IssuedCertificate): Buffer {
  const spki = AsnConvert.parse(cert.cert.publicKey.rawData, SubjectPublicKeyInfo);
  return createHash("sha1").update(Buffer.from(spki.subjectPublicKey)).digest();
}

/** Lowercase hex without sign-padding zeros, as serials are compared. */
export function hex(serial: ArrayBuffer | Uint8Array | string): string {
  const h = typeof serial === "string" ? serial.toLowerCase() : Buffer.from(serial instanceof Uint8Array ? serial : new Uint8Array(serial)).toString("hex");
  return h.replace(/^(00)+(?=..)/, "");
}
