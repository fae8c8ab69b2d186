import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { BlockList, isIPv4, isIPv6 } from "node:net";
import type { TLSSocket } from "node:tls";
import { LRUCache } from "lru-cache";
import { ConfigError } from "../errors.js";
import type { TrustAnchors } from "../pki/anchors.js";
import { verifyPath } from "../pki/path.js";
import { decodeCertificates, ProfileDecodeError, type CertEncoding } from "../profiles/formats.js";
import type { Profile } from "../profiles/schema.js";
import { ABSENT, type PeerState } from "./peer-state.js";
import type { Presented } from "../tls/peer.js";

export interface ForwardedPeerOptions {
  /** The input profile: which fields carry the certificate, and how they are encoded. */
  readonly profile: Profile;
  /** Addresses or CIDR blocks of the terminator. */
  readonly sources: readonly string[];
  /** Whether a connection whose own client certificate verified (against `trustedProxy.clientTrustAnchors`) is trusted. */
  readonly trustVerifiedPeers: boolean;
  readonly anchors: TrustAnchors;
  readonly evaluate: (presented: Presented) => PeerState;
  /** For configuration errors: the file and the listener's JSON path. */
  readonly configFile: string;
  readonly at: string;
}

/** Where the certificate is in the terminator's fields. */
interface Reader {
  readonly leaf?: { readonly name: string; readonly encoding: CertEncoding };
  readonly chain?: { readonly name: string; readonly encoding: CertEncoding; readonly includesLeaf: boolean };
  readonly xfcc?: { readonly name: string };
}

/** Builds the address matcher; an entry that is neither an address nor a CIDR block is a configuration error. */
function sourceMatcher(sources: readonly string[], configFile: string, at: string): BlockList {
  const list = new BlockList();
  sources.forEach((entry, i) => {
    const [address, bits, extra] = entry.split("/");
    const type = isIPv4(address ?? "") ? "ipv4" : isIPv6(address ?? "") ? "ipv6" : null;
    const prefix = bits === undefined ? (type === "ipv4" ? 32 : 128) : Number(bits);
    if (type === null || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === "ipv4" ? 32 : 128)) {
      throw new ConfigError(configFile, [{ path: `${at}.sources[${i}]`, message: `'${entry}' is not an IPv4/IPv6 address or CIDR block` }]);
    }
    list.addSubnet(address!, prefix, type);
  });
  return list;
}

function readerOf(profile: Profile, configFile: string, at: string): Reader {
  const find = (source: string) => profile.headers.find((h) => h.source === source);
  const leaf = find("leaf");
  const chain = find("chain");
  const xfcc = find("xfcc");
  if (!leaf && !chain && !xfcc)
    throw new ConfigError(configFile, [{ path: `${at}.profile`, message: `profile '${profile.name}' has no leaf, chain or xfcc field to read a certificate from` }]);
  return {
    ...(leaf && { leaf: { name: leaf.name.toLowerCase(), encoding: leaf.encoding! } }),
    ...(chain && { chain: { name: chain.name.toLowerCase(), encoding: chain.encoding!, includesLeaf: chain.chain?.includeLeaf ?? false } }),
    ...(xfcc && { xfcc: { name: xfcc.name.toLowerCase() } }),
  };
}

/** Every raw line of a field (Node joins or drops repeats in `headers`; RFC 9440 §2.3 allows several field lines). */
function lines(incoming: IncomingMessage, name: string): string[] {
  const raw = incoming.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

/** Splits on `sep` outside double quotes (XFCC, Envoy headers.rst). */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\" && quoted && i + 1 < text.length) {
      current += ch + text[++i]!;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  if (quoted) throw new ProfileDecodeError("pem-urlencoded", "unbalanced quotes in x-forwarded-client-cert");
  parts.push(current);
  return parts;
}

/** The nearest hop's element of an XFCC value: its Cert and Chain (URL-encoded PEM). */
function xfccCertificates(value: string): Uint8Array[] {
  const elements = splitOutsideQuotes(value, ",");
  const pairs = splitOutsideQuotes(elements[elements.length - 1]!.trim(), ";");
  const fields = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    let v = pair.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\"/g, '"');
    fields.set(pair.slice(0, eq).trim().toLowerCase(), v);
  }
  const chain = fields.get("chain");
  if (chain !== undefined) return decodeCertificates(chain, "pem-urlencoded");
  const cert = fields.get("cert");
  return cert === undefined ? [] : decodeCertificates(cert, "pem-urlencoded");
}

function certificatesOf(incoming: IncomingMessage, r: Reader): Uint8Array[] {
  if (r.xfcc) {
    const values = lines(incoming, r.xfcc.name);
    return values.length === 0 ? [] : xfccCertificates(values.join(","));
  }
  let leaf: Uint8Array[] = [];
  if (r.leaf) {
    const values = lines(incoming, r.leaf.name);
    // RFC 9440 §2.2: the leaf field is a singleton; two values make the certificate ambiguous.
    if (values.length > 1) throw new ProfileDecodeError(r.leaf.encoding, `${r.leaf.name} appears ${values.length} times`);
    leaf = values.length === 0 ? [] : decodeCertificates(values[0]!, r.leaf.encoding);
    if (leaf.length > 1) throw new ProfileDecodeError(r.leaf.encoding, `${r.leaf.name} holds ${leaf.length} certificates`);
  }
  const chainValues = r.chain ? lines(incoming, r.chain.name) : [];
  const chain = r.chain && chainValues.length > 0 ? decodeCertificates(chainValues.join(","), r.chain.encoding) : [];
  if (r.chain?.includesLeaf) return leaf.length > 0 ? [...leaf, ...chain.slice(1)] : chain;
  // RFC 9440 §2.3: Client-Cert-Chain must not appear without Client-Cert.
  if (leaf.length === 0 && chain.length > 0) throw new ProfileDecodeError(r.chain!.encoding, `${r.chain!.name} without ${r.leaf?.name ?? "a leaf field"}`);
  return [...leaf, ...chain];
}

/**
 * The peer of a request on a `trusted-proxy` listener: the client certificate a terminator in front forwarded
 * in its fields (decoded with the listener's profile), believed only when the connection comes from one of its
 * addresses or presented its verified certificate; otherwise absent. Path validation (pki/path.ts), OFB policy and
 * identity then run exactly as for a handshake chain. Outcomes are remembered by the SHA-256 of the fields, so a
 * terminator multiplexing many clients over one connection costs one look-up per request.
 */
export function createForwardedPeer(o: ForwardedPeerOptions): (incoming: IncomingMessage, socket: object) => PeerState {
  const reader = readerOf(o.profile, o.configFile, o.at);
  const sources = sourceMatcher(o.sources, o.configFile, o.at);
  const names = [reader.leaf?.name, reader.chain?.name, reader.xfcc?.name].filter((n): n is string => n !== undefined);
  const cache = new LRUCache<string, PeerState>({ max: 10_000 });

  function trusted(socket: TLSSocket): boolean {
    if (o.trustVerifiedPeers && socket.authorized) return true;
    const address = socket.remoteAddress;
    if (address === undefined) return false;
    const v4 = address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : null;
    return v4 !== null ? sources.check(v4, "ipv4") : sources.check(address, isIPv4(address) ? "ipv4" : "ipv6");
  }

  return (incoming, socket) => {
    if (!trusted(socket as TLSSocket)) return ABSENT;
    const hash = createHash("sha256");
    for (const n of names) for (const v of lines(incoming, n)) hash.update(n).update("\n").update(v).update("\n");
    const key = hash.digest("base64url");
    let state = cache.get(key);
    if (state === undefined) {
      state = evaluate(incoming);
      cache.set(key, state);
    }
    return state;
  };

  function evaluate(incoming: IncomingMessage): PeerState {
    let certs: Uint8Array[];
    try {
      certs = certificatesOf(incoming, reader);
    } catch (err) {
      if (!(err instanceof ProfileDecodeError)) throw err;
      const state: PeerState = {
        status: "rejected",
        thumbprint: "-",
        failure: { code: "CERT_MALFORMED", stage: "pki", rule: "forwarded-certificate", certIndex: undefined, detail: `the forwarded certificate cannot be read: ${err.message}` },
      };
      return Object.freeze(state);
    }
    if (certs.length === 0) return ABSENT;
    return o.evaluate({ leaf: certs[0]!, leafSha256: "", opensslError: verifyPath(certs, o.anchors), chain: () => certs });
  }
}
