import { assert, assertEquals, assertThrows } from "./assert.ts";
import { SchemaDefinitionError, SchemaValidator } from "../../src/spec/schema.ts";
import type { JsonSchema } from "../../src/spec/schema.ts";
import configSchema from "../../schema/config.schema.json" with { type: "json" };

function errors(schema: JsonSchema, value: unknown): string[] {
  return new SchemaValidator(schema).validate(value).errors.map((e) => `${e.path}: ${e.message}`);
}

Deno.test("schema: type, including arrays of types", () => {
  assertEquals(errors({ type: "integer" }, 1.5), [": must be an integer"]);
  assertEquals(errors({ type: "integer" }, 3), []);
  assertEquals(errors({ type: "object" }, []), [": must be an object"]);
  assertEquals(errors({ type: "array" }, {}), [": must be an array"]);
  assertEquals(errors({ type: ["string", "null"] }, 1), [": must be a string or null"]);
  assertEquals(errors({ type: ["string", "null"] }, null), []);
  assertEquals(errors({ type: "number" }, "1"), [": must be a number"]);
  assertEquals(errors({ type: "boolean" }, 0), [": must be a boolean"]);
});

Deno.test("schema: properties, required, additionalProperties, patternProperties", () => {
  const schema = {
    type: "object",
    required: ["path", "type"],
    properties: { path: { type: "string" }, type: { type: "string" } },
    patternProperties: { "^x-": { type: "integer" } },
    additionalProperties: false,
  };
  assertEquals(errors(schema, { path: 1, "x-a": "no", "a/b": 1 }), [
    `: missing required property "type"`,
    "/path: must be a string",
    "/x-a: must be an integer",
    `/a~1b: unknown property "a/b"`,
  ]);
  const map = { type: "object", additionalProperties: { type: "string" } };
  assertEquals(errors(map, { a: "x", b: 2 }), ["/b: must be a string"]);
});

Deno.test("schema: arrays: items, minItems, maxItems, uniqueItems", () => {
  const schema = { type: "array", items: { type: "string" }, minItems: 1, maxItems: 2 };
  assertEquals(errors(schema, []), [": must not be empty"]);
  assertEquals(errors(schema, ["a", 1, "c"]), [
    "/1: must be a string",
    ": must have at most 2 items",
  ]);
  assertEquals(errors({ type: "array", minItems: 2 }, [1]), [": must have at least 2 items"]);
  assertEquals(errors({ uniqueItems: true }, [1, { a: 1 }, 2, { a: 1 }]), [
    `/3: duplicate of item 1 ({"a":1})`,
  ]);
});

Deno.test("schema: enum, const, pattern, x-format, minimum, maximum, lengths", () => {
  assertEquals(errors({ enum: ["pid", "network"] }, "net"), [`: must be one of: "pid", "network"`]);
  assertEquals(errors({ enum: ["only"] }, "x"), [`: must be "only"`]);
  assertEquals(errors({ const: 5 }, 6), [": must be 5"]);
  assertEquals(errors({ pattern: "^[a-z]+$" }, "A"), [
    `: must match the pattern "^[a-z]+$", not "A"`,
  ]);
  assertEquals(errors({ pattern: "^[0-9]+$", "x-format": "digits" }, "a"), [
    `: must be digits, not "a"`,
  ]);
  assertEquals(errors({ pattern: "^a" }, 5), [], "pattern ignores non-strings");
  assertEquals(errors({ minimum: 0, maximum: 10 }, -1), [": must be >= 0"]);
  assertEquals(errors({ minimum: 0, maximum: 10 }, 11), [": must be <= 10"]);
  assertEquals(errors({ minLength: 1 }, ""), [": must not be empty"]);
  assertEquals(errors({ minLength: 3, maxLength: 4 }, "ab"), [
    ": must be at least 3 characters long",
  ]);
  assertEquals(errors({ maxLength: 1 }, "ab"), [": must be at most 1 characters long"]);
});

Deno.test("schema: $ref, recursion, allOf, anyOf, oneOf, not", () => {
  const tree = {
    definitions: {
      node: {
        type: "object",
        required: ["v"],
        properties: {
          v: { type: "integer" },
          kids: { type: "array", items: { $ref: "#/definitions/node" } },
        },
      },
    },
    $ref: "#/definitions/node",
  };
  assertEquals(errors(tree, { v: 1, kids: [{ v: 2, kids: [{ v: "x" }] }, {}] }), [
    "/kids/0/kids/0/v: must be an integer",
    `/kids/1: missing required property "v"`,
  ]);
  assertEquals(errors({ allOf: [{ minimum: 1 }, { maximum: 3 }] }, 5), [": must be <= 3"]);
  const either = { anyOf: [{ type: "string" }, { type: "object", required: ["a"] }] };
  assertEquals(errors(either, "s"), []);
  assertEquals(
    errors(either, {}),
    [`: missing required property "a"`],
    "only the object branch applies",
  );
  assertEquals(errors(either, 1), [": does not match any allowed form"]);
  const exactly = { oneOf: [{ type: "integer" }, { minimum: 0 }] };
  assertEquals(errors(exactly, -1), []);
  assertEquals(errors(exactly, 1), [": must match exactly one allowed form, matches several"]);
  assertEquals(errors({ not: { type: "string" } }, "x"), [": is not allowed"]);
  assertEquals(errors(false, 1), [": is not allowed"]);
  assertEquals(errors(true, 1), []);
});

Deno.test("schema: all errors are reported, wrong types stop deeper checks", () => {
  const schema = {
    type: "object",
    properties: { a: { type: "string", minLength: 1 }, b: { type: "integer", minimum: 0 } },
  };
  assertEquals(errors(schema, { a: 1, b: -1 }), ["/a: must be a string", "/b: must be >= 0"]);
});

Deno.test("schema: unsupported keywords and bad refs are refused at compile time", () => {
  const eager = { eager: true };
  assertThrows(() => new SchemaValidator({ format: "uri" }), SchemaDefinitionError, `"format"`);
  assertThrows(
    () => new SchemaValidator({ items: { minContains: 1 } }, eager),
    SchemaDefinitionError,
    `unsupported schema keyword "minContains" at #/items`,
  );
  assertThrows(() => new SchemaValidator({ $ref: "other.json#/x" }, eager), SchemaDefinitionError);
  assertThrows(
    () => new SchemaValidator({ $ref: "#/definitions/missing" }, eager),
    SchemaDefinitionError,
  );
  // Lazily compiled parts fail on first use instead.
  const lazy = new SchemaValidator({ properties: { a: { format: "uri" } } });
  assertEquals(lazy.validate({}).errors, []);
  assertThrows(() => lazy.validate({ a: 1 }), SchemaDefinitionError);
});

Deno.test("schema: runts' config schema compiles completely", () => {
  new SchemaValidator(configSchema, { eager: true });
});

Deno.test("schema: unknown properties warn with warnUnknownProperties", () => {
  const v = new SchemaValidator(
    { type: "object", properties: { a: {}, m: { type: "object", additionalProperties: true } } },
    { warnUnknownProperties: true },
  );
  assertEquals(v.validate({ a: 1, b: 2, m: { z: 1 } }), {
    errors: [],
    warnings: [{ path: "/b", message: `unknown property "b" is ignored` }],
  });
});

const specTests = new URL(
  "../../../shared/reference/runtime-spec/schema/test/config/",
  import.meta.url,
);

function specTestFiles(kind: "good" | "bad"): URL[] {
  const dir = new URL(`${kind}/`, specTests);
  return [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".json")).map((e) =>
    new URL(e.name, dir)
  ).sort((a, b) => a.href.localeCompare(b.href));
}

const configValidator = new SchemaValidator(configSchema, { warnUnknownProperties: true });

Deno.test("schema: every runtime-spec good test config passes runts' schema", () => {
  const files = specTestFiles("good");
  assert(files.length >= 9, `found only ${files.length} good configs`);
  for (const file of files) {
    const result = configValidator.validate(JSON.parse(Deno.readTextFileSync(file)));
    assertEquals(result.errors, [], file.pathname);
  }
});

Deno.test("schema: every runtime-spec bad test config fails (JSON or schema)", () => {
  const files = specTestFiles("bad");
  assert(files.length >= 5, `found only ${files.length} bad configs`);
  for (const file of files) {
    let value: unknown;
    try {
      value = JSON.parse(Deno.readTextFileSync(file));
    } catch {
      assert(file.pathname.endsWith("/invalid-json.json"), `${file.pathname} is not JSON`);
      continue; // failing to parse is failing
    }
    assert(configValidator.validate(value).errors.length > 0, `${file.pathname} passed`);
  }
});

Deno.test("schema: the runc spec fixture is valid, and validation is fast", () => {
  const fixture = JSON.parse(
    Deno.readTextFileSync(new URL("./fixtures/runc-spec.json", import.meta.url)),
  );
  assertEquals(configValidator.validate(fixture), { errors: [], warnings: [] });
  for (let i = 0; i < 500; i++) configValidator.validate(fixture);
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) configValidator.validate(fixture);
  const perRun = (performance.now() - t0) / 1000;
  assert(perRun < 1, `validation took ${perRun.toFixed(3)} ms`);
});
