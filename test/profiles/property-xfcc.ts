/**
 * An x-forwarded-client-cert reader written from Envoy's documented grammar (headers.rst), independent of
 * src/profiles: elements separated by `,`, key/value pairs by `;`, `key=value`, a value containing `,` `;`
 * `=` or `"` double-quoted with `"` written `\"`. Separators count only outside quotes; inside quotes `\"`
 * is a quote character, not the end of the value. An unterminated quote or a value the grammar cannot
 * produce is an error; keys are returned as found, so an injected key or element is visible as one.
 */

export interface XfccPair {
  /** The text before the first `=` (the whole pair when there is none). */
  readonly key: string;
  /** The value as written, quotes and escapes included: read it with {@link unquote}. */
  readonly raw: string;
}

/** `text` split on `separator` outside double quotes; throws on an unterminated quote. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\" && text[i + 1] === '"') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) throw new Error(`unterminated quoted value in ${JSON.stringify(text)}`);
  parts.push(text.slice(start));
  return parts;
}

/** A value's text: unquoted as written, or between quotes with `\"` read as `"`. Throws on what the grammar cannot produce. */
export function unquote(raw: string): string {
  if (!raw.startsWith('"')) {
    if (raw.includes('"')) throw new Error(`unquoted value with a quote: ${JSON.stringify(raw)}`);
    return raw;
  }
  if (raw.length < 2 || !raw.endsWith('"')) throw new Error(`quoted value does not end with a quote: ${JSON.stringify(raw)}`);
  let value = "";
  const inner = raw.slice(1, -1);
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === "\\" && inner[i + 1] === '"') {
      value += '"';
      i++;
    } else if (c === '"') {
      throw new Error(`text after the closing quote: ${JSON.stringify(raw)}`);
    } else {
      value += c;
    }
  }
  return value;
}

/**
 * The elements of an XFCC field value, each its `key=value` pairs in order. Only quoting is enforced
 * here, so an injected key or element shows up as one rather than as a parse error.
 */
export function parseXfcc(header: string): XfccPair[][] {
  return splitOutsideQuotes(header, ",").map((element) =>
    splitOutsideQuotes(element, ";").map((pair) => {
      const eq = pair.indexOf("=");
      return eq < 0 ? { key: pair, raw: "" } : { key: pair.slice(0, eq), raw: pair.slice(eq + 1) };
    }),
  );
}
