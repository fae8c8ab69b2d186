import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostNameProblem, maxClientHelloBuffer, parseClientHello, type ClientHelloErrorCode } from "../../src/tls/client-hello.js";

// The ClientHello reader behind passthrough listeners (RFC 8446 §4.1.2, §5.1; RFC 6066 §3), fed crafted and
// hostile bytes. It decides from the first bytes that say enough, waits on a consistent prefix, and never
// throws or loops.

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const vector = (lengthBytes: 1 | 2, body: number[]) => [...(lengthBytes === 1 ? [body.length] : u16(body.length)), ...body];
const extension = (type: number, data: number[]) => [...u16(type), ...vector(2, data)];
const hostNames = (...names: string[]) => vector(2, names.flatMap((n) => [0, ...vector(2, ascii(n))]));
const serverName = (...names: string[]) => extension(0, hostNames(...names));
const SUPPORTED_VERSIONS = extension(43, vector(1, [0x03, 0x04, 0x03, 0x03]));

/** A ClientHello body; `extensions: null` leaves the extensions block out (RFC 5246 §7.4.1.2). */
function helloBody(o: { extensions?: number[][] | null; sessionId?: number[]; suites?: number[]; compression?: number[]; trailing?: number[] } = {}): number[] {
  const extensions = o.extensions === undefined ? [serverName("api.bank.example"), SUPPORTED_VERSIONS] : o.extensions;
  return [
    ...u16(0x0303),
    ...new Array<number>(32).fill(0xab),
    ...vector(1, o.sessionId ?? new Array<number>(32).fill(7)),
    ...vector(2, o.suites ?? [0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f]),
    ...vector(1, o.compression ?? [0]),
    ...(extensions === null ? [] : vector(2, extensions.flat())),
    ...(o.trailing ?? []),
  ];
}

const handshake = (body: number[], type = 1) => [type, ...u24(body.length), ...body];
const record = (fragment: number[], type = 22) => [type, 0x03, 0x01, ...u16(fragment.length), ...fragment];

/** The handshake message cut into records of at most `size` bytes (RFC 8446 §5.1 fragmentation). */
function records(message: number[], size = 16_384): number[] {
  const out: number[] = [];
  for (let at = 0; at < message.length; at += size) out.push(...record(message.slice(at, at + size)));
  return out;
}

/** The handshake message cut at `cuts` (offsets into it), one record per piece. */
function split(message: number[], cuts: number[]): number[] {
  const bounds = [...new Set([0, ...cuts, message.length])].sort((a, b) => a - b);
  return bounds.slice(1).flatMap((end, i) => record(message.slice(bounds[i], end)));
}

const hello = (body = helloBody()) => Uint8Array.from(records(handshake(body)));
const parse = (bytes: number[] | Uint8Array, maxBytes?: number) => parseClientHello(Uint8Array.from(bytes), { maxBytes });

function expectInvalid(bytes: number[] | Uint8Array, code: ClientHelloErrorCode, detail?: RegExp) {
  const result = parse(bytes);
  expect(result).toMatchObject({ status: "invalid", code });
  if (detail && result.status === "invalid") expect(result.detail).toMatch(detail);
}

describe("a well-formed ClientHello", () => {
  it("yields its host_name, lower-cased", () => {
    expect(parse(hello(helloBody({ extensions: [serverName("API.Bank.Example")] })))).toEqual({ status: "complete", sni: "api.bank.example" });
  });

  it("without server_name, or without any extensions block (TLS 1.2), has no SNI", () => {
    expect(parse(hello(helloBody({ extensions: [SUPPORTED_VERSIONS] })))).toEqual({ status: "complete", sni: null });
    expect(parse(hello(helloBody({ extensions: null })))).toEqual({ status: "complete", sni: null });
  });

  it("is incomplete at every proper prefix, so a ClientHello sent one byte at a time is waited for", () => {
    const bytes = hello();
    for (let n = 0; n < bytes.length; n++) expect(parse(bytes.subarray(0, n)), `prefix of ${n} bytes`).toEqual({ status: "incomplete" });
    expect(parse(bytes)).toEqual({ status: "complete", sni: "api.bank.example" });
  });

  it("fragmented over several records (the 4-byte handshake header split too) is reassembled, and waited for", () => {
    const bytes = Uint8Array.from(split(handshake(helloBody()), [2, 3, 50]));
    expect(parse(bytes)).toEqual({ status: "complete", sni: "api.bank.example" });
    for (let n = 0; n < bytes.length; n++) expect(parse(bytes.subarray(0, n)), `prefix of ${n} bytes`).toEqual({ status: "incomplete" });
  });

  it("of more than 2^14 bytes spans two records and parses", () => {
    const padding = extension(21, new Array<number>(17_000).fill(0));
    const body = helloBody({ extensions: [serverName("big.bank.example"), padding] });
    expect(parseClientHello(hello(body), { maxBytes: 32_768 })).toEqual({ status: "complete", sni: "big.bank.example" });
  });

  it("followed by more records or early data: the rest is not read", () => {
    expect(parse([...hello(), ...record([1, 2, 3], 23), 0xff])).toEqual({ status: "complete", sni: "api.bank.example" });
  });
});

describe("not a ClientHello: decided from the first bytes that show it", () => {
  it.each([
    ["plain HTTP", ascii("GET / HTTP/1.1\r\n")],
    ["one byte of HTTP", ascii("G")],
    ["an SSLv2-format hello", [0x80, 0x2e, 0x01, 0x03, 0x01]],
    ["a record version 4.x", [0x16, 0x04]],
    ["an application_data record first", record([1, 2, 3], 23)],
  ])("%s → not TLS", (_name, bytes) => expectInvalid(bytes, "CLIENT_HELLO_NOT_TLS"));

  it("a record longer than 2^14 → refused from its header alone", () => expectInvalid([0x16, 0x03, 0x01, 0x40, 0x01], "CLIENT_HELLO_RECORD_TOO_LARGE", /16385/));
  it("a zero-length handshake record → refused", () => expectInvalid([0x16, 0x03, 0x01, 0x00, 0x00], "CLIENT_HELLO_RECORD_EMPTY"));
  it("a ServerHello (handshake type 2) → refused from its first handshake byte", () => expectInvalid([0x16, 0x03, 0x03, 0x00, 0x40, 0x02], "CLIENT_HELLO_NOT_CLIENT_HELLO"));

  it("a declared length over the bound → refused before the bytes arrive", () => {
    expectInvalid([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, ...u24(0xffffff)], "CLIENT_HELLO_TOO_LARGE", /16777215/);
    expect(parse(hello(), 100)).toMatchObject({ status: "invalid", code: "CLIENT_HELLO_TOO_LARGE" });
  });

  it("another content type between the fragments → refused", () => {
    const message = handshake(helloBody());
    expectInvalid([...record(message.slice(0, 40)), ...record([1], 21), ...record(message.slice(40))], "CLIENT_HELLO_RECORD_INTERLEAVED");
  });

  it("more than 16 records → refused as soon as the 17th starts", () => {
    const oneByteRecords = records(handshake(helloBody()), 1);
    expect(parse(oneByteRecords.slice(0, 16 * 6))).toEqual({ status: "incomplete" });
    expectInvalid(oneByteRecords.slice(0, 16 * 6 + 1), "CLIENT_HELLO_TOO_FRAGMENTED");
  });
});

describe("malformed lengths inside a whole ClientHello → CLIENT_HELLO_MALFORMED, never a wait", () => {
  const ext = (...e: number[][]) => helloBody({ extensions: e });
  it.each([
    ["an empty ClientHello", []],
    ["a session id of 33 bytes", helloBody({ sessionId: new Array<number>(33).fill(1) })],
    ["an odd cipher_suites length", helloBody({ suites: [0x13, 0x01, 0x13] })],
    ["no cipher suite", helloBody({ suites: [] })],
    ["no compression method", helloBody({ compression: [] })],
    ["bytes after the extensions", helloBody({ trailing: [0] })],
    ["an extension whose length runs past the block", [...helloBody({ extensions: null }), ...u16(8), ...u16(0), ...u16(200), 0, 0, 0, 0]],
    ["an extensions length past the message", [...helloBody({ extensions: null }), ...u16(0xffff), ...serverName("a.example")]],
    ["a cipher_suites length past the message", [...helloBody().slice(0, 67), 0xff, 0xfe]],
    ["a server_name list shorter than its entries", ext(extension(0, [...u16(3), 0, ...vector(2, ascii("api.bank.example"))]))],
    ["bytes after the server_name list", ext(extension(0, [...hostNames("a.example"), 0]))],
    ["an empty server_name extension", ext(extension(0, []))],
    ["an empty HostName", ext(extension(0, vector(2, [0, 0, 0])))],
    ["a HostName length of 65535 in a short list", ext(extension(0, vector(2, [0, 0xff, 0xff, ...ascii("a.example")])))],
  ])("%s", (_name, body) => expectInvalid(records(handshake(body)), "CLIENT_HELLO_MALFORMED"));
});

describe("server_name (RFC 6066 §3)", () => {
  const withNames = (...names: string[]) => hello(helloBody({ extensions: [serverName(...names)] }));
  it.each([
    ["an underscore", "bad_host.bank.example"],
    ["a space", "api bank.example"],
    ["a NUL byte", "api.bank.example\0.evil.example"],
    ["a CR LF (log injection)", "api.bank.example\r\nx"],
    ["a non-ASCII byte", "b\u00e3nk.example"],
    ["an IPv4 literal", "127.0.0.1"],
    ["a trailing dot", "api.bank.example."],
    ["an empty label", "api..example"],
    ["a label starting with '-'", "-api.bank.example"],
    ["a 64-character label", `${"a".repeat(64)}.example`],
    ["254 characters", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`],
  ])("with %s → CLIENT_HELLO_SNI_INVALID", (_name, name) => expectInvalid(withNames(name), "CLIENT_HELLO_SNI_INVALID"));

  it("a name_type other than host_name → CLIENT_HELLO_SNI_INVALID", () => {
    expectInvalid(hello(helloBody({ extensions: [extension(0, vector(2, [1, ...vector(2, ascii("a.example"))]))] })), "CLIENT_HELLO_SNI_INVALID", /name_type 1/);
  });

  it("two host_names in one list → CLIENT_HELLO_SNI_DUPLICATE (which one would the backend use?)", () => {
    expectInvalid(withNames("api.bank.example", "other.example"), "CLIENT_HELLO_SNI_DUPLICATE");
    expectInvalid(withNames("api.bank.example", "api.bank.example"), "CLIENT_HELLO_SNI_DUPLICATE");
  });

  it("two server_name extensions → CLIENT_HELLO_EXTENSION_DUPLICATE (RFC 8446 §4.2)", () => {
    expectInvalid(hello(helloBody({ extensions: [serverName("api.bank.example"), serverName("evil.example")] })), "CLIENT_HELLO_EXTENSION_DUPLICATE");
  });

  it("the detail never echoes the peer's bytes", () => {
    const result = parse(withNames("evil\r\nname.example"));
    expect(result.status === "invalid" && result.detail).not.toMatch(/evil/);
  });

  it("hostNameProblem accepts LDH names, A-labels and single labels", () => {
    for (const name of ["localhost", "xn--bnk-qla.example", "a-b.c1.example", `${"a".repeat(63)}.example`]) expect(hostNameProblem(name), name).toBeNull();
  });
});

describe("hostile input", () => {
  it("arbitrary bytes: a verdict, never a throw, and 'incomplete' only within the buffer bound", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, handshakeRecord) => {
        // Half the runs start like a handshake record so the walk gets past the first byte.
        const input = handshakeRecord ? Uint8Array.from([0x16, 0x03, ...bytes]) : bytes;
        const result = parseClientHello(input, { maxBytes: 512 });
        expect(["complete", "incomplete", "invalid"]).toContain(result.status);
        if (result.status === "incomplete") expect(input.length).toBeLessThanOrEqual(maxClientHelloBuffer(512));
      }),
      { numRuns: 3_000 },
    );
  });

  it("a valid ClientHello with bytes flipped: a verdict, never a throw", () => {
    const bytes = hello();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
        const mutated = Uint8Array.from(bytes);
        for (const [at, value] of flips) mutated[at] = value;
        const result = parseClientHello(mutated);
        if (result.status === "complete" && result.sni !== null) expect(hostNameProblem(result.sni)).toBeNull();
      }),
      { numRuns: 3_000 },
    );
  });

  it("any split into records of the same ClientHello reads the same", () => {
    const message = handshake(helloBody());
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: message.length }), { minLength: 1, maxLength: 15 }), (cuts) => {
        expect(parse(split(message, cuts))).toEqual({ status: "complete", sni: "api.bank.example" });
      }),
    );
  });
});
