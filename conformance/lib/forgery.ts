import { randomBytes, X509Certificate } from "node:crypto";
import type { RecordedRequest } from "../../src/conformance/recorder.js";

// Shared by the hygiene scenarios (conformance/scenarios/hygiene): forged client-certificate headers.

/** A recognisable forgery: every forged value carries `text` or its base64 (`b64`). */
export interface Forgery {
  readonly text: string;
  readonly b64: string;
}

export function newForgery(): Forgery {
  const text = `forged-${randomBytes(8).toString("hex")}`;
  return { text, b64: Buffer.from(text).toString("base64") };
}

/**
 * Every well-known client-certificate field (as documented by RFC 9440, Envoy, Azion, nginx and
 * ingress-nginx, HAProxy, Apache, Traefik, AWS ALB and CloudFront, Cloudflare, GCP, Kong, Azure, Akamai,
 * Gravitee, F5), each with a forged value shaped like the real thing.
 */
export function forgedCertificateHeaders(f: Forgery): Record<string, string> {
  const pemUrl = `-----BEGIN%20CERTIFICATE-----%0A${encodeURIComponent(f.b64)}%0A-----END%20CERTIFICATE-----%0A`;
  const dn = `CN=${f.text},O=Forged Bank,C=BR`;
  return {
    "Client-Cert": `:${f.b64}:`,
    "Client-Cert-Chain": `:${f.b64}:, :${f.b64}:`,
    "X-Forwarded-Client-Cert": `Hash=${f.text};Cert="${pemUrl}";Subject="${dn}"`,
    "X-Forward-Client-Cert": pemUrl,
    "X-SSL-Client-Cert": pemUrl,
    "X-SSL-Client-Verify": `SUCCESS ${f.text}`,
    "X-SSL-Client-S-DN": dn,
    "X-SSL-Client-I-DN": dn,
    "X-SSL-Client-DN": `"/C=BR/CN=${f.text}"`,
    "X-SSL-Client-Serial": f.text,
    "X-SSL-Client-SHA1": f.text,
    "X-SSL-Client-Fingerprint": f.text,
    "X-SSL-Client-M-Serial": f.text,
    "ssl-client-cert": pemUrl,
    "ssl-client-verify": `SUCCESS ${f.text}`,
    "ssl-client-subject-dn": dn,
    "ssl-client-issuer-dn": dn,
    "X-Forwarded-Tls-Client-Cert": f.b64,
    "X-Forwarded-Tls-Client-Cert-Info": `Subject%3D%22CN%3D${f.text}%22`,
    "X-Amzn-Mtls-Clientcert": pemUrl,
    "X-Amzn-Mtls-Clientcert-Leaf": pemUrl,
    "X-Amzn-Mtls-Clientcert-Subject": dn,
    "X-Amzn-Mtls-Clientcert-Issuer": dn,
    "X-Amzn-Mtls-Clientcert-Serial-Number": f.text,
    "X-Amzn-Mtls-Clientcert-Validity": `NotBefore=2020-01-01T00:00:00Z;NotAfter=2099-01-01T00:00:00Z;${f.text}`,
    "CloudFront-Viewer-Cert-Pem": pemUrl,
    "CloudFront-Viewer-Cert-Sha256": f.text,
    "CloudFront-Viewer-Cert-Present": `1 ${f.text}`,
    "Cf-Client-Cert-Der-Base64": f.b64,
    "Cf-Client-Cert-Sha256": f.text,
    "cf-cert-presented": `true ${f.text}`,
    "cf-cert-verified": `true ${f.text}`,
    "cf-cert-subject-dn": dn,
    "cf-cert-fingerprint-sha256": f.text,
    "X-Client-Cert-Present": `true ${f.text}`,
    "X-Client-Cert-Chain-Verified": `true ${f.text}`,
    "X-Client-Cert-Hash": f.b64,
    "X-Client-Cert-Leaf": `:${f.b64}:`,
    "X-Client-Cert-Chain": `:${f.b64}:`,
    "X-Client-Cert": pemUrl,
    "X-Client-Cert-Dn": dn,
    "X-Client-Cert-Fingerprint": f.text,
    "X-Client-Verify": `SUCCESS ${f.text}`,
    "X-Client-DN": dn,
    "X-ARR-ClientCert": f.b64,
    "Akamai-CC-DER": `:${f.b64}:`,
    "X-Gravitee-Client-Cert": f.b64,
    "SSLClientCertSerialNumber": f.text,
  };
}

/** The backend's header lines that carry the forgery. */
export function forgedLines(got: RecordedRequest, f: Forgery): string[] {
  return got.headers.filter(([, v]) => v.includes(f.text) || v.includes(f.b64)).map(([k, v]) => `${k}: ${v}`);
}

/** RFC 9440 §2.1: `:` + base64 of the DER + `:`. */
export function sfBinary(pem: Buffer | string): string {
  return `:${new X509Certificate(pem).raw.toString("base64")}:`;
}
