import { EdgeError } from "../errors.js";
import type { ResponseRewrite } from "../proxy/forward.js";
import type { ResponseSigner } from "./response-signer.js";
import type { MessageMetrics } from "./signing-metrics.js";

/** The media type of a signed message (OFB security profile: "application/jwt"). */
export const APPLICATION_JWT = "application/jwt";

/** What the edge sends for a backend response on a verify-and-sign route: the backend's bytes, or a JWS it signed. */
export type ResponseBody = { readonly kept: true } | { readonly kept: false; readonly jws: string };

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A media type's essence (type/subtype), lower case (RFC 9110 §8.3.1). */
export function mediaType(value: string | string[] | undefined): string {
  const v = Array.isArray(value) ? value[0] : value;
  return (v ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * The signed form of a backend response (OFB security profile, "Message Content Signing Considerations (JWS)": the
 * response payload is a JWT the bank signs). An empty body stays empty; a JSON object is signed as the payload; an
 * `application/jwt` body keeps its bytes when `sign` is `if-unsigned` and the backend signed it (any `alg` but
 * `none`), and otherwise its payload is signed by the edge. Anything else — another type, a JSON array, a compressed
 * body — cannot be a signed message: 502 MESSAGE_RESPONSE_UNSIGNABLE.
 */
export async function signBackendResponse(o: {
  readonly route: string;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly signer: ResponseSigner;
  /** The calling organisation's id: `aud` of the response. */
  readonly audience: string;
  readonly sign: "always" | "if-unsigned";
}): Promise<ResponseBody> {
  if (o.body.length === 0) return { kept: true };
  const refuse = (why: string) => new EdgeError("MESSAGE_RESPONSE_UNSIGNABLE", "messages", `the backend of route '${o.route}' answered ${why}, which cannot be sent as a signed message`);
  const encoding = o.headers["content-encoding"];
  if (encoding !== undefined && mediaType(encoding) !== "identity") throw refuse(`with Content-Encoding ${String(encoding).slice(0, 40)}`);
  const type = mediaType(o.headers["content-type"]);
  let payload: unknown;
  if (type === APPLICATION_JWT) {
    const text = o.body.toString("utf8").trim();
    const parts = text.split(".");
    const header = parts.length === 3 ? parse(parts[0]!, "base64url") : undefined;
    if (typeof header !== "object" || header === null) throw refuse("application/jwt that is not a compact JWS");
    if (o.sign === "if-unsigned" && (header as { alg?: unknown }).alg !== "none") return { kept: true };
    payload = parse(parts[1]!, "base64url");
  } else if (type === "application/json" || type.endsWith("+json")) {
    payload = parse(o.body.toString("utf8"), "text");
  } else {
    throw refuse(type === "" ? "without a Content-Type" : `with Content-Type ${type.slice(0, 60)}`);
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw refuse("a payload that is not a JSON object");
  return { kept: false, jws: await o.signer.sign(payload as Record<string, unknown>, o.audience) };
}

/** The response fields of a signed body: the backend's, with the type, length and representation validators replaced. */
export function signedResponseHeaders(headers: Headers, body: Buffer): Record<string, string | string[] | undefined> {
  return {
    ...headers,
    "content-type": APPLICATION_JWT,
    "content-length": String(body.length),
    // RFC 9110 §8.8: validators of the backend's representation do not describe the signed one.
    etag: undefined,
    "last-modified": undefined,
    "content-md5": undefined,
    digest: undefined,
    "content-digest": undefined,
    "repr-digest": undefined,
  };
}

function parse(text: string, encoding: "base64url" | "text"): unknown {
  try {
    return JSON.parse(encoding === "text" ? text : Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** What signing a route's responses needs, shared by every route (the signer is replaced on reload). */
export interface ResponseSigning {
  /** Null when no signing key is configured (then no route signs). */
  readonly signer: ResponseSigner | null;
  readonly sign: "always" | "if-unsigned";
  readonly maxResponseBytes: number;
  readonly metrics: MessageMetrics;
}

/**
 * The proxy's rewrite of one response of a verify-and-sign route: read whole (at most `maxResponseBytes`: 502
 * MESSAGE_RESPONSE_TOO_LARGE beyond), then signed for the calling organisation `audience`.
 */
export function signingRewrite(route: string, audience: string, signing: ResponseSigning & { readonly signer: ResponseSigner }): ResponseRewrite {
  return {
    maxBytes: signing.maxResponseBytes,
    tooLarge: (bytes) => new EdgeError("MESSAGE_RESPONSE_TOO_LARGE", "messages", `the backend of route '${route}' answered with more than ${signing.maxResponseBytes} bytes (messageSigning.maxResponseBytes), read ${bytes}: a signed response is read whole first`),
    async apply({ headers, body }) {
      const out = await signBackendResponse({ route, headers, body, signer: signing.signer, audience, sign: signing.sign });
      if (out.kept) {
        signing.metrics.response(route, body.length === 0 ? "empty" : "kept");
        return null;
      }
      signing.metrics.response(route, "signed");
      const signed = Buffer.from(out.jws, "latin1");
      return { headers: signedResponseHeaders(headers, signed), body: signed };
    },
  };
}
