import { randomUUID } from "node:crypto";
import type { Exchange } from "../../../src/conformance/context.js";
import { PROBE_HEADER } from "../../../src/conformance/environment.js";
import { scenario } from "../../../src/conformance/scenario.js";

const WAIT_MS = 2_000;

export default scenario({
  id: "renegotiation-refused",
  area: "tls",
  title: "A TLS 1.2 client that asks to renegotiate is refused (error or closed connection) and a request sent behind the attempt is neither answered nor forwarded",
  origin: [
    "OFB Security Profile ID3 §Secure use of TLS: TLS renegotiation shall be disabled",
    "RFC 8705 §3: the client certificate comes from the initial handshake; no provision for renegotiation",
  ],
  requires: ["client"],
  async run(t) {
    // The probe behind the attempt is HTTP/1.1 bytes, so the handshake offers http/1.1 in every run: renegotiation
    // is a TLS 1.2 mechanism under either protocol (RFC 9113 §9.2.1 forbids it outright for HTTP/2).
    const h = await t.handshake({ as: "participant-a", minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ALPNProtocols: ["http/1.1"] });
    if (!h.ok) return t.fail("a TLS 1.2 handshake with participant-a's certificate completes", h.error);
    const { socket } = h;
    const errors: string[] = [];
    const data: Buffer[] = [];
    socket.on("error", (e: NodeJS.ErrnoException) => errors.push(e.message.split(":").find((part) => /renegotiation|alert/i.test(part)) ?? e.code ?? e.message));
    socket.on("data", (chunk: Buffer) => data.push(chunk));
    const closed = new Promise<boolean>((resolve) => {
      socket.once("close", () => resolve(true));
      setTimeout(() => resolve(false), WAIT_MS).unref();
    });
    t.check(socket.renegotiate({ rejectUnauthorized: false }, () => undefined) === true, "the client sent a renegotiation request");
    // Pipelined behind the attempt, on a route that needs neither certificate nor token: an edge that renegotiated,
    // or ignored the attempt and kept reading, would answer and forward it.
    const probe = randomUUID();
    const interactionId = randomUUID();
    socket.write(`GET ${t.paths.public} HTTP/1.1\r\nhost: ${t.env.target.servername}\r\n${PROBE_HEADER}: ${probe}\r\nx-fapi-interaction-id: ${interactionId}\r\n\r\n`);
    const wasClosed = await closed;
    t.check(wasClosed, `the edge ends the connection (within ${WAIT_MS} ms)`, "still open");
    t.check(data.length === 0, "no HTTP response is sent after the renegotiation attempt", Buffer.concat(data).toString("utf8").slice(0, 120));
    if (errors.length > 0) t.note(`the client saw: ${errors.join("; ")}`);
    // What the client got for its request: no response, under the probe id the recorder indexes by.
    const seen: Exchange = {
      status: 0,
      headers: {},
      rawHeaders: [],
      body: Buffer.alloc(0),
      text: "",
      error: errors[0] ?? "connection closed",
      probe,
      interactionId,
      json: () => {
        throw new Error("no response body");
      },
    };
    await t.expectNotForwarded(seen);
  },
});
