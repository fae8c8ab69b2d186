/**
 * A defensive reader of a connection's first bytes: the TLS ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2)
 * and its server_name extension (RFC 6066 §3), so that a passthrough listener can route by SNI without
 * terminating TLS (tls/passthrough.ts).
 *
 * Pure and total: bytes in, a verdict out. It never throws and never loops on hostile input: every length it
 * reads is checked against what holds it, every record it walks consumes at least six bytes, and the number
 * of records is bounded. Nothing is copied until the whole ClientHello has arrived, so calling it again on
 * every TCP segment costs O(records), not O(bytes).
 */

/** Why a connection's first bytes are not a ClientHello this edge will route. Logs and metrics key on it. */
export type ClientHelloErrorCode =
  | "CLIENT_HELLO_NOT_TLS"
  | "CLIENT_HELLO_RECORD_TOO_LARGE"
  | "CLIENT_HELLO_RECORD_EMPTY"
  | "CLIENT_HELLO_RECORD_INTERLEAVED"
  | "CLIENT_HELLO_TOO_FRAGMENTED"
  | "CLIENT_HELLO_NOT_CLIENT_HELLO"
  | "CLIENT_HELLO_TOO_LARGE"
  | "CLIENT_HELLO_MALFORMED"
  | "CLIENT_HELLO_EXTENSION_DUPLICATE"
  | "CLIENT_HELLO_SNI_INVALID"
  | "CLIENT_HELLO_SNI_DUPLICATE";

/**
 * `complete`: the ClientHello is whole; `sni` is the lower-cased host_name, or null when the client sent no
 * server_name extension. `incomplete`: what arrived is a consistent prefix: read more bytes. `invalid`: fail closed.
 */
export type ClientHelloParse =
  | { readonly status: "complete"; readonly sni: string | null }
  | { readonly status: "incomplete" }
  | { readonly status: "invalid"; readonly code: ClientHelloErrorCode; readonly detail: string };

/** Bound on the ClientHello message (browsers send 0.5–2 KiB, post-quantum key shares included). */
export const DEFAULT_MAX_CLIENT_HELLO_BYTES = 16_384;

/** RFC 8446 §5.1: a handshake message MAY be fragmented over several records; more than this many is refused. */
export const MAX_CLIENT_HELLO_RECORDS = 16;

/** RFC 8446 §5.1: a TLSPlaintext fragment is at most 2^14 bytes. */
const MAX_FRAGMENT = 16_384;
const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXTENSION_SERVER_NAME = 0;
const NAME_TYPE_HOST_NAME = 0;
const INCOMPLETE: ClientHelloParse = Object.freeze({ status: "incomplete" });

/**
 * The most bytes {@link parseClientHello} can answer `incomplete` for with this bound: a caller that has
 * buffered more has a bug, never a slow client.
 */
export function maxClientHelloBuffer(maxBytes = DEFAULT_MAX_CLIENT_HELLO_BYTES): number {
  return maxBytes + HANDSHAKE_HEADER + MAX_CLIENT_HELLO_RECORDS * RECORD_HEADER;
}

/**
 * Reads the ClientHello from the bytes a client has sent so far (call again with more on `incomplete`). Bytes
 * after the ClientHello (more records, early data) are ignored: the caller forwards them as they are.
 */
export function parseClientHello(bytes: Uint8Array, options: { readonly maxBytes?: number } = {}): ClientHelloParse {
  const message = reassemble(bytes, options.maxBytes ?? DEFAULT_MAX_CLIENT_HELLO_BYTES);
  if (!(message instanceof Uint8Array)) return message;
  try {
    return { status: "complete", sni: readClientHello(new Reader(message, "ClientHello")) };
  } catch (cause) {
    if (cause instanceof HelloError) return invalid(cause.code, cause.message);
    return invalid("CLIENT_HELLO_MALFORMED", "the ClientHello cannot be read");
  }
}

/**
 * RFC 6066 §3: HostName is "the fully qualified DNS hostname … using ASCII encoding without a trailing dot";
 * IP literals are not permitted. Returns what is wrong with `name`, or null. Letters, digits and '-' only
 * (RFC 1123 §2.1; IDNs arrive as A-labels), labels of 1–63 characters not starting or ending with '-', at most
 * 253 characters, and a last label that is not all digits (RFC 3696 §2), which also refuses IPv4 literals.
 */
export function hostNameProblem(name: string): string | null {
  if (name.length === 0) return "empty host name";
  if (name.length > 253) return "host name longer than 253 characters";
  if (!/^[A-Za-z0-9.-]+$/.test(name)) return "host name with a character other than a letter, digit, '-' or '.'";
  const labels = name.split(".");
  for (const label of labels) {
    if (label.length === 0) return "host name with an empty label (or a trailing dot)";
    if (label.length > 63) return "host name label longer than 63 characters";
    if (label.startsWith("-") || label.endsWith("-")) return "host name label starting or ending with '-'";
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) return "IP address or all-numeric top-level label";
  return null;
}

function invalid(code: ClientHelloErrorCode, detail: string): ClientHelloParse {
  return { status: "invalid", code, detail };
}

/**
 * Walks the records (RFC 8446 §5.1) and returns the handshake message once it is whole, reassembled from
 * its fragments. Until then it only reads record headers and the 4-byte handshake header, so the bounds
 * (record size, message size, message type) fail a hostile client as soon as its bytes say so.
 */
function reassemble(bytes: Uint8Array, maxBytes: number): Uint8Array | ClientHelloParse {
  const fragments: Uint8Array[] = [];
  let have = 0;
  let need: number | null = null;
  let offset = 0;
  for (let record = 0; ; record++) {
    const header = bytes.subarray(offset, offset + RECORD_HEADER);
    if (header.length === 0) return INCOMPLETE;
    if (record === MAX_CLIENT_HELLO_RECORDS) return invalid("CLIENT_HELLO_TOO_FRAGMENTED", `the ClientHello spans more than ${MAX_CLIENT_HELLO_RECORDS} records`);
    if (header[0] !== CONTENT_TYPE_HANDSHAKE) {
      return record === 0
        ? invalid("CLIENT_HELLO_NOT_TLS", "the first byte is not a TLS handshake record (content type 22)")
        : invalid("CLIENT_HELLO_RECORD_INTERLEAVED", "a record of another content type inside the ClientHello (RFC 8446 §5.1)");
    }
    if (header.length >= 2 && header[1] !== 3) {
      return record === 0
        ? invalid("CLIENT_HELLO_NOT_TLS", "legacy_record_version is not 3.x")
        : invalid("CLIENT_HELLO_MALFORMED", "a record's legacy_record_version is not 3.x");
    }
    if (header.length < RECORD_HEADER) return INCOMPLETE;
    const length = ((header[3] ?? 0) << 8) | (header[4] ?? 0);
    if (length === 0) return invalid("CLIENT_HELLO_RECORD_EMPTY", "a zero-length handshake record (RFC 8446 §5.1)");
    if (length > MAX_FRAGMENT) return invalid("CLIENT_HELLO_RECORD_TOO_LARGE", `a record of ${length} bytes (at most 2^14, RFC 8446 §5.1)`);
    const fragment = bytes.subarray(offset + RECORD_HEADER, offset + RECORD_HEADER + length);
    fragments.push(fragment);
    have += fragment.length;
    if (have >= 1 && byteAt(fragments, 0) !== HANDSHAKE_CLIENT_HELLO) {
      return invalid("CLIENT_HELLO_NOT_CLIENT_HELLO", `handshake message type ${byteAt(fragments, 0)} where client_hello(1) must come first`);
    }
    if (need === null && have >= HANDSHAKE_HEADER) {
      const declared = (byteAt(fragments, 1) << 16) | (byteAt(fragments, 2) << 8) | byteAt(fragments, 3);
      if (declared > maxBytes) return invalid("CLIENT_HELLO_TOO_LARGE", `a ClientHello of ${declared} bytes (bound ${maxBytes})`);
      need = HANDSHAKE_HEADER + declared;
    }
    if (need !== null && have >= need) return concat(fragments, need).subarray(HANDSHAKE_HEADER);
    if (fragment.length < length) return INCOMPLETE;
    offset += RECORD_HEADER + length;
  }
}

/** Byte `index` of the handshake stream made of `fragments` (the caller knows it is there). */
function byteAt(fragments: readonly Uint8Array[], index: number): number {
  let i = index;
  for (const f of fragments) {
    if (i < f.length) return f[i] ?? 0;
    i -= f.length;
  }
  return 0;
}

function concat(fragments: readonly Uint8Array[], length: number): Uint8Array {
  if (fragments[0] && fragments[0].length >= length) return fragments[0].subarray(0, length);
  const out = new Uint8Array(length);
  let at = 0;
  for (const f of fragments) {
    if (at >= length) break;
    const part = f.subarray(0, length - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** RFC 8446 §4.1.2 (and RFC 5246 §7.4.1.2, where the extensions block may be absent). */
function readClientHello(body: Reader): string | null {
  body.advance(2, "legacy_version");
  body.advance(32, "random");
  body.vector(1, "legacy_session_id", 0, 32);
  const suites = body.vector(2, "cipher_suites", 2);
  if (suites.remaining % 2 !== 0) throw new HelloError("CLIENT_HELLO_MALFORMED", "cipher_suites of an odd length");
  body.vector(1, "legacy_compression_methods", 1);
  if (body.remaining === 0) return null;
  const extensions = body.vector(2, "extensions", 0);
  body.end("ClientHello");
  const seen = new Set<number>();
  let sni: string | null = null;
  while (extensions.remaining > 0) {
    const type = extensions.u16("extension_type");
    const data = extensions.vector(2, `extension ${type}`, 0);
    // RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type in a given extension block."
    if (seen.has(type)) throw new HelloError("CLIENT_HELLO_EXTENSION_DUPLICATE", `extension ${type} appears twice (RFC 8446 §4.2)`);
    seen.add(type);
    if (type === EXTENSION_SERVER_NAME) sni = readServerName(data);
  }
  return sni;
}

/** RFC 6066 §3: ServerNameList server_name_list<1..2^16-1>, each entry a NameType and a HostName<1..2^16-1>. */
function readServerName(data: Reader): string {
  const list = data.vector(2, "server_name_list", 1);
  data.end("server_name extension");
  const host = readHostName(list);
  if (list.remaining > 0) {
    readHostName(list);
    // RFC 6066 §3: "The ServerNameList MUST NOT contain more than one name of the same name_type."
    throw new HelloError("CLIENT_HELLO_SNI_DUPLICATE", "more than one host_name in server_name (RFC 6066 §3)");
  }
  return host;
}

function readHostName(list: Reader): string {
  const type = list.u8("name_type");
  // host_name is the only NameType; an unknown one has no known length, so the list cannot be read on.
  if (type !== NAME_TYPE_HOST_NAME) throw new HelloError("CLIENT_HELLO_SNI_INVALID", `name_type ${type} is not host_name(0) (RFC 6066 §3)`);
  const name = list.vector(2, "HostName", 1).rest();
  if (name.length > 253) throw new HelloError("CLIENT_HELLO_SNI_INVALID", "server_name: host name longer than 253 characters (RFC 6066 §3)");
  // One character per byte, so a non-ASCII byte fails the character rule.
  const text = String.fromCharCode(...name);
  const problem = hostNameProblem(text);
  if (problem) throw new HelloError("CLIENT_HELLO_SNI_INVALID", `server_name: ${problem} (RFC 6066 §3)`);
  return text.toLowerCase();
}

/** Thrown inside the parser only; {@link parseClientHello} turns it into an `invalid` verdict. */
class HelloError extends Error {
  constructor(
    readonly code: ClientHelloErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A cursor over one length-delimited piece of the message; every read is checked against its end. */
class Reader {
  #at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.#at;
  }

  u8(field: string): number {
    return this.take(1, field)[0] ?? 0;
  }

  u16(field: string): number {
    const b = this.take(2, field);
    return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
  }

  advance(length: number, field: string): void {
    this.take(length, field);
  }

  /** An `opaque field<min..max>` (RFC 8446 §3.4) with a `lengthBytes`-byte length prefix, as its own reader. */
  vector(lengthBytes: 1 | 2, field: string, min: number, max = lengthBytes === 1 ? 0xff : 0xffff): Reader {
    const length = lengthBytes === 1 ? this.u8(`${field} length`) : this.u16(`${field} length`);
    if (length < min || length > max) throw new HelloError("CLIENT_HELLO_MALFORMED", `${field} of ${length} bytes (allowed ${min}..${max})`);
    return new Reader(this.take(length, field), field);
  }

  /** What is left, consumed. */
  rest(): Uint8Array {
    return this.take(this.remaining, this.what);
  }

  /** The piece must have been read to its last byte. */
  end(field: string): void {
    if (this.remaining !== 0) throw new HelloError("CLIENT_HELLO_MALFORMED", `${this.remaining} bytes after the end of ${field}`);
  }

  private take(length: number, field: string): Uint8Array {
    if (length > this.remaining) throw new HelloError("CLIENT_HELLO_MALFORMED", `${field} runs past the end of ${this.what}`);
    const out = this.bytes.subarray(this.#at, this.#at + length);
    this.#at += length;
    return out;
  }
}
