import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { hostNameProblem } from "./client-hello.js";

/**
 * The `passthrough` section of a listener in mode `passthrough`: TLS connections routed by SNI, as raw TCP,
 * to backends that terminate TLS themselves (Envoy `tcp_proxy` with `server_names`, nginx `ssl_preread`,
 * HAProxy `mode tcp` with `req.ssl_sni`). The edge sees no certificate and forwards no identity.
 */

/** A backend address, parsed once at start-up. `address` is the configured text, for logs. */
export interface PassthroughUpstream {
  readonly host: string;
  readonly port: number;
  readonly address: string;
}

/**
 * Parses `host:port`: a DNS name, an IPv4 address or a bracketed IPv6 address (`[::1]:8443`), and a port
 * 1–65535. Returns the address, or what is wrong with the text.
 */
export function parseUpstream(text: string): PassthroughUpstream | string {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  if (!match) return "expected host:port (IPv6 in brackets: [::1]:8443)";
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return "port out of range 1–65535";
  const v6 = match[1];
  if (v6 !== undefined) return isIPv6(v6) ? { host: v6, port, address: text } : "not an IPv6 address in the brackets";
  const host = match[2] ?? "";
  if (isIPv4(host)) return { host, port, address: text };
  const problem = hostNameProblem(host);
  return problem ? `host: ${problem}` : { host: host.toLowerCase(), port, address: text };
}

/** What is wrong with an SNI pattern (an exact host name, or `*.` and a name of at least two labels), or null. */
export function sniPatternProblem(pattern: string): string | null {
  const wildcard = pattern.startsWith("*.");
  const name = wildcard ? pattern.slice(2) : pattern;
  const problem = hostNameProblem(name);
  if (problem) return problem;
  // "*.com" would catch a whole top-level domain; the wildcard stands for exactly one label, leftmost.
  if (wildcard && !name.includes(".")) return "a wildcard needs at least two labels after '*.' (e.g. *.bank.example)";
  return null;
}

const upstream = z
  .string()
  .transform((text, ctx): PassthroughUpstream => {
    const parsed = parseUpstream(text);
    if (typeof parsed === "string") {
      ctx.addIssue({ code: "custom", message: parsed });
      return z.NEVER;
    }
    return parsed;
  })
  .describe("The backend that terminates TLS, host:port (IPv6 in brackets).");

const sni = z
  .string()
  .toLowerCase()
  .superRefine((pattern, ctx) => {
    const problem = sniPatternProblem(pattern);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe("The server name (SNI) this route takes: a host name, or *.<domain> for exactly one leftmost label. Case-insensitive.");

const duration = (def: number) => z.number().int().positive().default(def);

export const passthroughSchema = z
  .strictObject({
    routes: z
      .array(z.strictObject({ sni, upstream }))
      .min(1)
      .describe("SNI routes: an exact name wins over a wildcard; each name at most once."),
    default: z
      .union([upstream, z.null()])
      .optional()
      .describe("Where a ClientHello without SNI, or with a name no route takes, goes. null or absent: the connection is closed."),
    clientHelloTimeoutMs: duration(5_000).describe("The whole ClientHello must arrive within this long after the connection opens."),
    connectTimeoutMs: duration(5_000).describe("Time-out for the TCP connection to the backend."),
    idleTimeoutMs: duration(300_000).describe("A tunnel with no bytes in either direction for this long is closed."),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.routes.forEach((r, i) => {
      if (seen.has(r.sni)) ctx.addIssue({ code: "custom", path: ["routes", i, "sni"], message: `duplicate sni '${r.sni}'` });
      seen.add(r.sni);
    });
  })
  .describe("mode passthrough: TLS is not terminated; connections are routed by SNI, as TCP, to backends that terminate TLS themselves. No client-certificate checks and no identity forwarding happen on such a listener.");

export type PassthroughConfigInput = z.input<typeof passthroughSchema>;
export type PassthroughConfig = z.output<typeof passthroughSchema>;
