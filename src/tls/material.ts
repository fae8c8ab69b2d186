import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { TlsListenerConfig } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import { loadTrustAnchors, type TrustAnchors } from "../pki/anchors.js";
import { secureContextOptions, type TlsMaterial } from "./profile.js";

/**
 * Reads a listener's certificate, key, trust anchors and DH parameters, and proves they work together by
 * building a secure context, so that a bad file stops start-up (or a reload) with the file and key named.
 */
export function readTlsMaterial(listener: TlsListenerConfig, index: number, file: string): { material: TlsMaterial; anchors: TrustAnchors } {
  const at = (key: string) => `listeners[${index}].tls.${key}`;
  const readAt = (path: string, jsonPath: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (cause) {
      throw new ConfigError(file, [{ path: jsonPath, message: `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}` }]);
    }
  };
  const read = (path: string, key: string) => readAt(path, at(key));
  const tls = listener.tls;
  const bundles = tls.trustAnchors.map((path, i) => ({ source: path, text: read(path, `trustAnchors[${i}]`) }));
  let anchors: TrustAnchors;
  try {
    anchors = loadTrustAnchors(bundles);
  } catch (cause) {
    throw new ConfigError(file, [{ path: at("trustAnchors"), message: (cause as Error).message }]);
  }
  // A trusted-proxy listener asks the terminator for its own certificate, issued under its own CA.
  let proxyCa: readonly string[] = [];
  const proxyBundles = listener.trustedProxy?.clientTrustAnchors;
  if (proxyBundles) {
    try {
      proxyCa = loadTrustAnchors(proxyBundles.map((path, i) => ({ source: path, text: readAt(path, `listeners[${index}].trustedProxy.clientTrustAnchors[${i}]`) }))).pem;
    } catch (cause) {
      if (cause instanceof ConfigError) throw cause;
      throw new ConfigError(file, [{ path: `listeners[${index}].trustedProxy.clientTrustAnchors`, message: (cause as Error).message }]);
    }
  }
  const material: TlsMaterial = {
    cert: read(tls.cert, "cert"),
    key: read(tls.key, "key"),
    keyPassphrase: tls.keyPassphrase,
    ca: listener.mode === "trusted-proxy" ? proxyCa : anchors.pem,
    dhe: tls.dhe,
    dhparam: tls.dhparam === undefined ? undefined : read(tls.dhparam, "dhparam"),
  };
  try {
    createSecureContext(secureContextOptions(material));
  } catch (cause) {
    // OpenSSL's message names the problem (e.g. "key values mismatch"); it never contains key material.
    throw new ConfigError(file, [{ path: at("cert"), message: `certificate/key unusable: ${(cause as Error).message}` }]);
  }
  return { material, anchors };
}
