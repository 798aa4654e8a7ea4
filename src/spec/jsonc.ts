/**
 * JSONC parser: JSON plus `//` and `/* *\/` comments and trailing commas. Besides the
 * value it records where every value (and object key) starts, addressed by JSON pointer,
 * so config problems can be reported as FILE:LINE:COL. Hand-written because config.json
 * is parsed on the container start path and needs positions `JSON.parse` cannot give.
 */

/** A 1-based position in the source text. */
export interface Position {
  line: number;
  col: number;
}

/** Where a value starts, and for object members where its key starts. */
export interface ValueLocation {
  value: Position;
  key?: Position;
}

/** A non-fatal finding, e.g. a duplicate key. */
export interface JsoncWarning {
  path: string;
  line: number;
  col: number;
  message: string;
}

export interface JsoncResult {
  value: unknown;
  /** Location of every value by JSON pointer ("" is the root). */
  locate(pointer: string): ValueLocation | undefined;
  /** Make `to` resolve to the location of `from` (for values moved by legacy mapping). */
  alias(to: string, from: string): void;
  warnings: JsoncWarning[];
}

/** A syntax error, with the 1-based position where parsing stopped. */
export class JsoncSyntaxError extends Error {
  constructor(readonly reason: string, readonly line: number, readonly col: number) {
    super(`${line}:${col}: ${reason}`);
    this.name = "JsoncSyntaxError";
  }
}

/** RFC 6901 escaping of one reference token. */
export function escapePointerToken(token: string): string {
  if (token.indexOf("~") < 0 && token.indexOf("/") < 0) return token;
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** RFC 6901 unescaping of one reference token. */
export function unescapePointerToken(token: string): string {
  if (token.indexOf("~") < 0) return token;
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** Split a JSON pointer into unescaped tokens ("" → []). */
export function splitPointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map(unescapePointerToken);
}

const enum Ch {
  Tab = 9,
  LineFeed = 10,
  CarriageReturn = 13,
  Space = 32,
  Quote = 34,
  Plus = 43,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Slash = 47,
  Zero = 48,
  Nine = 57,
  Colon = 58,
  UpperE = 69,
  OpenBracket = 91,
  Backslash = 92,
  CloseBracket = 93,
  LowerE = 101,
  OpenBrace = 123,
  CloseBrace = 125,
  Star = 42,
}

/** Offsets of values and keys; turned into line:col only when asked. */
interface RawLocation {
  value: number;
  key: number;
}

class Parser {
  private pos = 0;
  readonly offsets = new Map<string, RawLocation>();
  readonly duplicates: { path: string; offset: number; key: string }[] = [];

  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    this.skipTrivia();
    if (this.pos >= this.text.length) this.fail("empty document: expected a JSON value");
    const value = this.parseValue("", -1);
    this.skipTrivia();
    if (this.pos < this.text.length) this.fail("unexpected content after the JSON value");
    return value;
  }

  fail(reason: string, at = this.pos): never {
    const { line, col } = positionOf(lineStarts(this.text), at);
    throw new JsoncSyntaxError(reason, line, col);
  }

  private skipTrivia(): void {
    const text = this.text;
    const length = text.length;
    while (this.pos < length) {
      const c = text.charCodeAt(this.pos);
      if (c === Ch.Space || c === Ch.LineFeed || c === Ch.CarriageReturn || c === Ch.Tab) {
        this.pos++;
      } else if (c === Ch.Slash) {
        const next = text.charCodeAt(this.pos + 1);
        if (next === Ch.Slash) {
          const end = text.indexOf("\n", this.pos + 2);
          this.pos = end < 0 ? length : end + 1;
        } else if (next === Ch.Star) {
          const end = text.indexOf("*/", this.pos + 2);
          if (end < 0) this.fail("unterminated /* comment");
          this.pos = end + 2;
        } else {
          this.fail("unexpected '/': comments start with // or /*");
        }
      } else if (c === 0xfeff && this.pos === 0) {
        this.pos++; // byte order mark
      } else {
        return;
      }
    }
  }

  private parseValue(path: string, keyOffset: number): unknown {
    const start = this.pos;
    this.offsets.set(path, { value: start, key: keyOffset });
    const c = this.text.charCodeAt(start);
    switch (c) {
      case Ch.OpenBrace:
        return this.parseObject(path);
      case Ch.OpenBracket:
        return this.parseArray(path);
      case Ch.Quote:
        return this.parseString();
      case 116: // t
        return this.parseLiteral("true", true);
      case 102: // f
        return this.parseLiteral("false", false);
      case 110: // n
        return this.parseLiteral("null", null);
      default:
        if (c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) return this.parseNumber();
        if (Number.isNaN(c)) this.fail("unexpected end of input: expected a value");
        this.fail(`unexpected character ${describeChar(this.text, start)}: expected a value`);
    }
  }

  private parseLiteral<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) {
      this.fail(`unexpected character ${describeChar(this.text, this.pos)}: expected a value`);
    }
    this.pos += word.length;
    return value;
  }

  private parseObject(path: string): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.pos++; // {
    this.skipTrivia();
    if (this.text.charCodeAt(this.pos) === Ch.CloseBrace) {
      this.pos++;
      return result;
    }
    for (;;) {
      const keyOffset = this.pos;
      const c = this.text.charCodeAt(keyOffset);
      if (c !== Ch.Quote) {
        if (Number.isNaN(c)) this.fail("unexpected end of input: expected '}'");
        this.fail(`expected a quoted property name, found ${describeChar(this.text, keyOffset)}`);
      }
      const key = this.parseString();
      this.skipTrivia();
      if (this.text.charCodeAt(this.pos) !== Ch.Colon) {
        this.fail(`expected ':' after property name "${key}"`);
      }
      this.pos++;
      this.skipTrivia();
      const memberPath = path + "/" + escapePointerToken(key);
      if (Object.hasOwn(result, key)) {
        this.duplicates.push({ path: memberPath, offset: keyOffset, key });
        this.forgetBelow(memberPath);
      }
      const value = this.parseValue(memberPath, keyOffset);
      // defineProperty: a "__proto__" key must become data, not the prototype.
      if (key === "__proto__") {
        Object.defineProperty(result, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        result[key] = value;
      }
      this.skipTrivia();
      const sep = this.text.charCodeAt(this.pos);
      if (sep === Ch.Comma) {
        this.pos++;
        this.skipTrivia();
        if (this.text.charCodeAt(this.pos) === Ch.CloseBrace) { // trailing comma
          this.pos++;
          return result;
        }
      } else if (sep === Ch.CloseBrace) {
        this.pos++;
        return result;
      } else if (Number.isNaN(sep)) {
        this.fail("unexpected end of input: expected ',' or '}' after object member");
      } else {
        this.fail("expected ',' or '}' after object member");
      }
    }
  }

  /** A duplicate key replaces the earlier value: drop the earlier value's descendants. */
  private forgetBelow(path: string): void {
    const prefix = path + "/";
    for (const key of this.offsets.keys()) {
      if (key.startsWith(prefix)) this.offsets.delete(key);
    }
  }

  private parseArray(path: string): unknown[] {
    const result: unknown[] = [];
    this.pos++; // [
    this.skipTrivia();
    if (this.text.charCodeAt(this.pos) === Ch.CloseBracket) {
      this.pos++;
      return result;
    }
    for (;;) {
      result.push(this.parseValue(path + "/" + result.length, -1));
      this.skipTrivia();
      const sep = this.text.charCodeAt(this.pos);
      if (sep === Ch.Comma) {
        this.pos++;
        this.skipTrivia();
        if (this.text.charCodeAt(this.pos) === Ch.CloseBracket) { // trailing comma
          this.pos++;
          return result;
        }
      } else if (sep === Ch.CloseBracket) {
        this.pos++;
        return result;
      } else if (Number.isNaN(sep)) {
        this.fail("unexpected end of input: expected ',' or ']' after array element");
      } else {
        this.fail("expected ',' or ']' after array element");
      }
    }
  }

  private parseString(): string {
    const text = this.text;
    const start = this.pos;
    let i = start + 1;
    // Fast path: no escapes, which is nearly every string in a config.
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === Ch.Quote) {
        this.pos = i + 1;
        return text.slice(start + 1, i);
      }
      if (c === Ch.Backslash) break;
      if (c < 0x20 || Number.isNaN(c)) {
        if (Number.isNaN(c) || c === Ch.LineFeed) this.fail("unterminated string", start);
        this.fail("control character in string: escape it", i);
      }
      i++;
    }
    let out = text.slice(start + 1, i);
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === Ch.Quote) {
        this.pos = i + 1;
        return out;
      }
      if (Number.isNaN(c) || c === Ch.LineFeed) this.fail("unterminated string", start);
      if (c < 0x20) this.fail("control character in string: escape it", i);
      if (c !== Ch.Backslash) {
        out += text[i];
        i++;
        continue;
      }
      const e = text[i + 1];
      switch (e) {
        case '"':
        case "\\":
        case "/":
          out += e;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.fail("invalid \\u escape: expected 4 hex digits", i);
          }
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          if (e === undefined) this.fail("unterminated string", start);
          this.fail(`invalid escape '\\${e}' in string`, i);
      }
      i += 2;
    }
  }

  private parseNumber(): number {
    const text = this.text;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === Ch.Minus) i++;
    const first = text.charCodeAt(i);
    if (first === Ch.Zero) {
      i++;
    } else if (first > Ch.Zero && first <= Ch.Nine) {
      while (isDigit(text.charCodeAt(i))) i++;
    } else {
      this.fail("invalid number: expected a digit", i);
    }
    if (text.charCodeAt(i) === Ch.Dot) {
      i++;
      if (!isDigit(text.charCodeAt(i))) this.fail("invalid number: expected a digit after '.'", i);
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const e = text.charCodeAt(i);
    if (e === Ch.LowerE || e === Ch.UpperE) {
      i++;
      const sign = text.charCodeAt(i);
      if (sign === Ch.Plus || sign === Ch.Minus) i++;
      if (!isDigit(text.charCodeAt(i))) this.fail("invalid number: expected an exponent", i);
      while (isDigit(text.charCodeAt(i))) i++;
    }
    if (isDigit(text.charCodeAt(i)) && first === Ch.Zero) {
      this.fail("invalid number: leading zeros are not allowed", start);
    }
    this.pos = i;
    return Number(text.slice(start, i));
  }
}

function isDigit(c: number): boolean {
  return c >= Ch.Zero && c <= Ch.Nine;
}

function describeChar(text: string, at: number): string {
  const ch = String.fromCodePoint(text.codePointAt(at) ?? 0);
  return JSON.stringify(ch).replace(/^"|"$/g, "'");
}

/** Offsets where each line starts. */
function lineStarts(text: string): number[] {
  const starts = [0];
  let i = text.indexOf("\n");
  while (i >= 0) {
    starts.push(i + 1);
    i = text.indexOf("\n", i + 1);
  }
  return starts;
}

/** 1-based line:col of an offset (col counts UTF-16 units, like editors mostly do). */
function positionOf(starts: number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - starts[lo] + 1 };
}

/** Parse JSONC text. Throws JsoncSyntaxError with line:col on malformed input. */
export function parseJsonc(text: string): JsoncResult {
  const parser = new Parser(text);
  const value = parser.parseDocument();
  const offsets = parser.offsets;
  let starts: number[] | undefined;
  const at = (offset: number): Position => positionOf(starts ??= lineStarts(text), offset);
  const warnings = parser.duplicates.map(({ path, offset, key }): JsoncWarning => {
    const { line, col } = at(offset);
    return { path, line, col, message: `duplicate key "${key}": the last value wins` };
  });
  return {
    value,
    warnings,
    locate(pointer) {
      const raw = offsets.get(pointer);
      if (raw === undefined) return undefined;
      return raw.key < 0 ? { value: at(raw.value) } : { value: at(raw.value), key: at(raw.key) };
    },
    alias(to, from) {
      const raw = offsets.get(from);
      if (raw !== undefined) offsets.set(to, raw);
    },
  };
}
