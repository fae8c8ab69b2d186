/**
 * Where a JSON text stops being JSON (RFC 8259 grammar), as a 1-based line and column, or null when it is valid.
 * V8's `JSON.parse` messages give a position for some errors only, and quote a snippet of the text for others;
 * a configuration file can hold a passphrase, so its text is never quoted back, only located.
 */
export function jsonSyntaxErrorLocation(text: string): { line: number; column: number } | null {
  const offset = jsonSyntaxErrorOffset(text);
  if (offset < 0) return null;
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

/** Offset of the first character that cannot continue a JSON text, or -1 when `text` is one JSON value. */
export function jsonSyntaxErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new SyntaxAt(i);
  };
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const expectChar = (c: string) => (text[i] === c ? void i++ : fail());
  const sticky = (re: RegExp) => {
    re.lastIndex = i;
    if (!re.test(text)) fail();
    i = re.lastIndex;
  };
  const string = () => {
    expectChar('"');
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) fail();
      if (c !== 0x5c) {
        i++;
        continue;
      }
      i++;
      const e = text[i];
      if (e === "u") {
        i++;
        sticky(HEX4);
      } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
      else fail();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        string();
        ws();
        expectChar(":");
        value();
        ws();
        if (text[i] === ",") i++;
        else return expectChar("}");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ",") i++;
        else return expectChar("]");
      }
    }
    if (c === '"') return string();
    for (const word of ["true", "false", "null"]) if (text.startsWith(word, i)) return void (i += word.length);
    sticky(NUMBER);
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (e) {
    if (e instanceof SyntaxAt) return e.offset;
    throw e;
  }
}

class SyntaxAt {
  constructor(readonly offset: number) {}
}
