import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  escapePointerToken,
  JsoncSyntaxError,
  parseJsonc,
  splitPointer,
} from "../../src/spec/jsonc.ts";

Deno.test("jsonc: plain JSON parses like JSON.parse", () => {
  const text = JSON.stringify({
    a: [1, -2.5e3, 0, true, false, null],
    s: 'x"y\\z\n\u00e9\ud83d\ude00',
    o: { nested: { deep: [] }, empty: {} },
  });
  assertEquals(parseJsonc(text).value, JSON.parse(text));
});

Deno.test("jsonc: comments and trailing commas", () => {
  const text = `// leading comment
{
  /* block
     comment */ "a": 1, // after a
  "b": [1, 2, /* inline */ 3,],
  "c": { "d": "// not a comment", },
}
// trailing`;
  assertEquals(parseJsonc(text).value, { a: 1, b: [1, 2, 3], c: { d: "// not a comment" } });
});

Deno.test("jsonc: locations of values and keys by JSON pointer", () => {
  const text = `{
  "process": {
    "args": [
      "sh",
      "-c"
    ]
  },
  "a/b": { "c~d": 7 }
}`;
  const r = parseJsonc(text);
  assertEquals(r.locate(""), { value: { line: 1, col: 1 } });
  assertEquals(r.locate("/process"), { value: { line: 2, col: 14 }, key: { line: 2, col: 3 } });
  assertEquals(r.locate("/process/args/0"), { value: { line: 4, col: 7 } });
  assertEquals(r.locate("/process/args/1")?.value, { line: 5, col: 7 });
  assertEquals(r.locate("/a~1b/c~0d"), { value: { line: 8, col: 19 }, key: { line: 8, col: 12 } });
  assertEquals(r.locate("/nope"), undefined);
});

Deno.test("jsonc: pointer escaping round-trips", () => {
  assertEquals(escapePointerToken("a/b~c"), "a~1b~0c");
  assertEquals(splitPointer("/a~1b~0c/0"), ["a/b~c", "0"]);
  assertEquals(splitPointer(""), []);
});

Deno.test("jsonc: duplicate keys: last wins, with a warning", () => {
  const r = parseJsonc(`{"a": {"x": 1}, "b": 2,\n "a": 3}`);
  assertEquals(r.value, { a: 3, b: 2 });
  assertEquals(r.warnings, [
    { path: "/a", line: 2, col: 2, message: 'duplicate key "a": the last value wins' },
  ]);
  assertEquals(r.locate("/a/x"), undefined);
  assertEquals(r.locate("/a")?.value, { line: 2, col: 7 });
});

Deno.test("jsonc: __proto__ key is plain data", () => {
  const r = parseJsonc(`{"__proto__": {"polluted": true}}`);
  const value = r.value as Record<string, unknown>;
  assertEquals(Object.getPrototypeOf(value), Object.prototype);
  assert(Object.hasOwn(value, "__proto__"));
  assertEquals(({} as Record<string, unknown>).polluted, undefined);
});

function syntaxError(text: string): string {
  return assertThrows(() => parseJsonc(text), JsoncSyntaxError).message;
}

Deno.test("jsonc: syntax errors name line:col and the problem", () => {
  assertEquals(
    syntaxError(`{\n  "a": 1\n  "b": 2\n}`),
    "3:3: expected ',' or '}' after object member",
  );
  assertEquals(syntaxError(`{\n  "a": "abc\n}`), "2:8: unterminated string");
  assertEquals(syntaxError(`{"a": [1 2]}`), "1:10: expected ',' or ']' after array element");
  assertEquals(syntaxError(`{"a" 1}`), `1:6: expected ':' after property name "a"`);
  assertEquals(syntaxError(`{a: 1}`), "1:2: expected a quoted property name, found 'a'");
  assertEquals(syntaxError(`{]`), "1:2: expected a quoted property name, found ']'");
  assertEquals(syntaxError(``), "1:1: empty document: expected a JSON value");
  assertEquals(syntaxError(`{"a": tru}`), "1:7: unexpected character 't': expected a value");
  assertEquals(syntaxError(`{"a": 01}`), "1:7: invalid number: leading zeros are not allowed");
  assertEquals(syntaxError(`{"a": 1.}`), "1:9: invalid number: expected a digit after '.'");
  assertEquals(syntaxError(`{"a": "\\q"}`), "1:8: invalid escape '\\q' in string");
  assertEquals(syntaxError(`{} x`), "1:4: unexpected content after the JSON value");
  assertEquals(syntaxError(`{"a": 1 /* open`), "1:9: unterminated /* comment");
  assertEquals(
    syntaxError(`{"a": 1`),
    "1:8: unexpected end of input: expected ',' or '}' after object member",
  );
  assertEquals(syntaxError(`[1,,]`), "1:4: unexpected character ',': expected a value");
  assertEquals(syntaxError(`{"a":\t"x\ty"}`), "1:9: control character in string: escape it");
});

Deno.test("jsonc: a 10 KB config parses quickly", () => {
  const fixture = Deno.readTextFileSync(new URL("./fixtures/runc-spec.json", import.meta.url));
  for (let i = 0; i < 200; i++) parseJsonc(fixture); // warm-up
  const t0 = performance.now();
  const rounds = 500;
  for (let i = 0; i < rounds; i++) parseJsonc(fixture);
  const perParse = (performance.now() - t0) / rounds;
  assert(perParse < 1, `parse took ${perParse.toFixed(3)} ms`);
  assertEquals(parseJsonc(fixture).value, JSON.parse(fixture));
});
