import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { terminatesTls, type Config, type TlsListenerConfig } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import { loadTrustAnchors, type TrustAnchors } from "../pki/anchors.js";
import { normalizeFingerprint, SHA256_FINGERPRINT } from "../pki/thumbprint.js";
import { secureContextOptions, type TlsMaterial } from "./profile.js";

/** Reads every TLS listener's files and `policy.transportRoots` as start-up and reload do, so a bad file is reported before anything starts. */
export function checkTlsFiles(config: Config, file: string): void {
  const transportRoots = readTransportRoots(config.policy.transportRoots, file);
  config.listeners.forEach((l, i) => terminatesTls(l) && readTlsMaterial(l, i, file, transportRoots));
}

/**
 * `policy.transportRoots`: each entry a SHA-256 fingerprint, or a PEM file whose certificates are pinned by the
 * SHA-256 of their DER. Returns lowercase hex without colons. A file that cannot be read or holds no usable
 * certificate is a {@link ConfigError} naming the entry (`at` is its JSON path, or a command-line option).
 */
export function readTransportRoots(entries: readonly string[], file: string, at = "policy.transportRoots"): ReadonlySet<string> {
  const pins = new Set<string>();
  entries.forEach((entry, i) => {
    if (SHA256_FINGERPRINT.test(entry)) {
      pins.add(normalizeFingerprint(entry));
      return;
    }
    const where = `${at}[${i}]`;
    let text: string;
    try {
      text = readFileSync(entry, "utf8");
    } catch (cause) {
      throw new ConfigError(file, [{ path: where, message: `'${entry}' is neither a SHA-256 fingerprint (64 hex digits, colons optional) nor a readable PEM file (${(cause as NodeJS.ErrnoException).code ?? String(cause)})` }]);
    }
    try {
      for (const c of loadTrustAnchors([{ source: entry, text }]).certs) pins.add(c.sha256);
    } catch (cause) {
      throw new ConfigError(file, [{ path: where, message: (cause as Error).message }]);
    }
  });
  return pins;
}

/**
 * Reads a listener's certificate, key, trust anchors and DH parameters, and proves they work together by
 * building a secure context, so that a bad file stops start-up (or a reload) with the file and key named.
 * A listener none of whose anchors is a transport root would refuse every client: that is a configuration
 * error too.
 */
export function readTlsMaterial(listener: TlsListenerConfig, index: number, file: string, transportRoots: ReadonlySet<string>): { material: TlsMaterial; anchors: TrustAnchors } {
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
  if (!anchors.roots.some((root) => transportRoots.has(root.sha256))) {
    const roots = anchors.roots.map((r) => `'${r.label}' (SHA-256 ${r.sha256})`).join(", ");
    throw new ConfigError(file, [
      { path: at("trustAnchors"), message: `none of its roots (${roots}) is a transport root: every client would be refused CERT_HIERARCHY_NOT_TRANSPORT` },
      {
        path: "policy.transportRoots",
        message: `pins ${transportRoots.size} root(s) (default: ICP-Brasil root v10), none in listeners[${index}].tls.trustAnchors: load the transport root's bundle there, or name the root here by SHA-256 or PEM file (for a test PKI, its ca/root.pem)`,
      },
    ]);
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
