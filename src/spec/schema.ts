/**
 * A small JSON-schema validator for runts' own schema (schema/config.schema.json).
 * It supports only the keywords that schema uses and refuses any other keyword when
 * compiling, so a schema can never be silently half-checked. Schemas compile once into
 * closures; validation reports ALL errors, each with a JSON pointer and a readable
 * message.
 *
 * Keywords: type (string or array), properties, required, additionalProperties,
 * patternProperties, items, minItems, maxItems, uniqueItems, enum, const, pattern,
 * minimum, maximum, minLength, maxLength, $ref (local "#/definitions/..."), oneOf,
 * anyOf, allOf, not (annotations: description, title, $schema, $id, $comment, default,
 * examples, definitions). runts extension: "x-format" names what a `pattern` expects,
 * for the message ("must be a page size like \"2MB\"").
 */

import { escapePointerToken } from "./jsonc.ts";

export type JsonSchema = boolean | { [keyword: string]: unknown };

/** One problem, at a JSON pointer into the validated value. */
export interface SchemaIssue {
  path: string;
  message: string;
}

export interface ValidationResult {
  errors: SchemaIssue[];
  /** Only with `warnUnknownProperties`: properties the schema does not describe. */
  warnings: SchemaIssue[];
}

export interface SchemaOptions {
  /**
   * Warn (not fail) on properties an object schema with `properties` does not list,
   * when it sets no `additionalProperties`/`patternProperties` itself. The OCI spec
   * allows unknown properties, but a typo deserves a warning.
   */
  warnUnknownProperties?: boolean;
  /**
   * Compile the whole schema in the constructor, so any unsupported keyword or bad $ref
   * throws at once (tests use this). By default each subschema compiles on first use:
   * a config touches a fraction of the schema and compiling it all costs start-up time.
   */
  eager?: boolean;
}

interface Context {
  errors: SchemaIssue[];
  warnings: SchemaIssue[];
}

type Check = (value: unknown, path: string, ctx: Context) => void;

const ANNOTATIONS = new Set([
  "description",
  "title",
  "$schema",
  "$id",
  "$comment",
  "default",
  "examples",
  "definitions",
  "x-format",
]);

const KEYWORDS = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "patternProperties",
  "items",
  "minItems",
  "maxItems",
  "uniqueItems",
  "enum",
  "const",
  "pattern",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "$ref",
  "oneOf",
  "anyOf",
  "allOf",
  "not",
]);

const TYPE_NAMES: Record<string, string> = {
  object: "an object",
  array: "an array",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "a boolean",
  null: "null",
};

/** Thrown for a malformed or unsupported schema: a runts bug, not a user error. */
export class SchemaDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaDefinitionError";
  }
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    default:
      return false;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function quoteList(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(", ");
}

/** A compiled schema: validate any value against the root or a local definition. */
export class SchemaValidator {
  private readonly compiled = new Map<string, Check>();

  constructor(private readonly root: JsonSchema, private readonly options: SchemaOptions = {}) {
    this.checkFor("#");
  }

  /** Validate `value` against the schema at local reference `ref` (default: the root). */
  validate(value: unknown, ref = "#"): ValidationResult {
    const ctx: Context = { errors: [], warnings: [] };
    this.checkFor(ref)(value, "", ctx);
    return ctx;
  }

  private checkFor(ref: string): Check {
    const cached = this.compiled.get(ref);
    if (cached) return cached;
    // Placeholder first, so recursive references compile to a lazy lookup.
    this.compiled.set(ref, (v, p, c) => resolved(v, p, c));
    const resolved = this.compile(this.resolve(ref), ref);
    this.compiled.set(ref, resolved);
    return resolved;
  }

  /** A subschema's check, compiled now (eager) or on its first use. */
  private sub(schema: JsonSchema, where: string): Check {
    if (this.options.eager) return this.compile(schema, where);
    let check: Check | undefined;
    return (v, p, c) => (check ??= this.compile(schema, where))(v, p, c);
  }

  private ref(ref: string): Check {
    if (this.options.eager) return this.checkFor(ref);
    let check: Check | undefined;
    return (v, p, c) => (check ??= this.checkFor(ref))(v, p, c);
  }

  private resolve(ref: string): JsonSchema {
    if (ref !== "#" && !ref.startsWith("#/")) {
      throw new SchemaDefinitionError(`only local $ref is supported: ${ref}`);
    }
    let node: unknown = this.root;
    for (const raw of ref === "#" ? [] : ref.slice(2).split("/")) {
      const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
      if (!isObject(node) || !Object.hasOwn(node, token)) {
        throw new SchemaDefinitionError(`unresolvable $ref ${ref}`);
      }
      node = node[token];
    }
    if (typeof node !== "boolean" && !isObject(node)) {
      throw new SchemaDefinitionError(`$ref ${ref} is not a schema`);
    }
    return node;
  }

  private compile(schema: JsonSchema, where: string): Check {
    if (schema === true) return () => {};
    if (schema === false) {
      return (_v, path, ctx) => void ctx.errors.push({ path, message: "is not allowed" });
    }
    for (const key of Object.keys(schema)) {
      if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key) && !key.startsWith("x-")) {
        throw new SchemaDefinitionError(`unsupported schema keyword "${key}" at ${where}`);
      }
    }
    const checks: Check[] = [];
    const typeCheck = this.compileType(schema);
    if (schema.$ref !== undefined) checks.push(this.ref(String(schema.$ref)));
    checks.push(...this.compileCombinators(schema, where));
    checks.push(...this.compileValueKeywords(schema));
    checks.push(...this.compileStringKeywords(schema));
    checks.push(...this.compileNumberKeywords(schema));
    checks.push(...this.compileArrayKeywords(schema, where));
    checks.push(...this.compileObjectKeywords(schema, where));
    return (value, path, ctx) => {
      // A wrong type makes every other keyword's message noise.
      if (typeCheck && !typeCheck(value, path, ctx)) return;
      for (const check of checks) check(value, path, ctx);
    };
  }

  private compileType(
    schema: Record<string, unknown>,
  ): ((value: unknown, path: string, ctx: Context) => boolean) | undefined {
    if (schema.type === undefined) return undefined;
    const types = Array.isArray(schema.type) ? schema.type.map(String) : [String(schema.type)];
    for (const t of types) {
      if (!(t in TYPE_NAMES)) throw new SchemaDefinitionError(`unknown type "${t}"`);
    }
    const message = "must be " + types.map((t) => TYPE_NAMES[t]).join(" or ");
    return (value, path, ctx) => {
      for (const t of types) if (hasType(value, t)) return true;
      ctx.errors.push({ path, message });
      return false;
    };
  }

  private compileCombinators(schema: Record<string, unknown>, where: string): Check[] {
    const checks: Check[] = [];
    const branches = (keyword: string): Check[] => {
      const list = schema[keyword];
      if (!Array.isArray(list) || list.length === 0) {
        throw new SchemaDefinitionError(`${keyword} needs a non-empty array at ${where}`);
      }
      return list.map((s, i) => this.sub(s as JsonSchema, `${where}/${keyword}/${i}`));
    };
    if (schema.allOf !== undefined) {
      const all = branches("allOf");
      checks.push((value, path, ctx) => {
        for (const check of all) check(value, path, ctx);
      });
    }
    for (const keyword of ["anyOf", "oneOf"] as const) {
      if (schema[keyword] === undefined) continue;
      const list = branches(keyword);
      const exactlyOne = keyword === "oneOf";
      checks.push((value, path, ctx) => {
        const outcomes = list.map((check) => {
          const sub: Context = { errors: [], warnings: [] };
          check(value, path, sub);
          return sub;
        });
        const passing = outcomes.filter((o) => o.errors.length === 0);
        if (passing.length === 1 || (!exactlyOne && passing.length > 1)) {
          ctx.warnings.push(...passing[0].warnings);
          return;
        }
        if (passing.length > 1) {
          ctx.errors.push({
            path,
            message: "must match exactly one allowed form, matches several",
          });
          return;
        }
        // Branches whose failure is a type mismatch of the value itself do not apply;
        // when exactly one applies, its errors are the helpful ones.
        const applicable = outcomes.filter((o) =>
          !o.errors.some((e) => e.path === path && e.message.startsWith("must be "))
        );
        if (applicable.length === 1) {
          ctx.errors.push(...applicable[0].errors);
        } else {
          ctx.errors.push({ path, message: "does not match any allowed form" });
        }
      });
    }
    if (schema.not !== undefined) {
      const not = this.sub(schema.not as JsonSchema, `${where}/not`);
      checks.push((value, path, ctx) => {
        const sub: Context = { errors: [], warnings: [] };
        not(value, path, sub);
        if (sub.errors.length === 0) ctx.errors.push({ path, message: "is not allowed" });
      });
    }
    return checks;
  }

  private compileValueKeywords(schema: Record<string, unknown>): Check[] {
    const checks: Check[] = [];
    if (schema.enum !== undefined) {
      const values = schema.enum as unknown[];
      const primitive = values.every((v) => v === null || typeof v !== "object");
      const set = new Set(values);
      const message = values.length === 1
        ? `must be ${JSON.stringify(values[0])}`
        : `must be one of: ${quoteList(values)}`;
      checks.push((value, path, ctx) => {
        const ok = primitive ? set.has(value) : values.some((v) => deepEqual(v, value));
        if (!ok) ctx.errors.push({ path, message });
      });
    }
    if (Object.hasOwn(schema, "const")) {
      const expected = schema.const;
      const message = `must be ${JSON.stringify(expected)}`;
      checks.push((value, path, ctx) => {
        if (!deepEqual(value, expected)) ctx.errors.push({ path, message });
      });
    }
    return checks;
  }

  private compileStringKeywords(schema: Record<string, unknown>): Check[] {
    const checks: Check[] = [];
    if (schema.pattern !== undefined) {
      const source = String(schema.pattern);
      const regexp = new RegExp(source, "u");
      const message = typeof schema["x-format"] === "string"
        ? `must be ${schema["x-format"]}`
        : `must match the pattern ${JSON.stringify(source)}`;
      checks.push((value, path, ctx) => {
        if (typeof value === "string" && !regexp.test(value)) {
          ctx.errors.push({ path, message: `${message}, not ${JSON.stringify(value)}` });
        }
      });
    }
    if (schema.minLength !== undefined) {
      const min = Number(schema.minLength);
      const message = min === 1 ? "must not be empty" : `must be at least ${min} characters long`;
      checks.push((value, path, ctx) => {
        if (typeof value === "string" && value.length < min) ctx.errors.push({ path, message });
      });
    }
    if (schema.maxLength !== undefined) {
      const max = Number(schema.maxLength);
      const message = `must be at most ${max} characters long`;
      checks.push((value, path, ctx) => {
        if (typeof value === "string" && value.length > max) ctx.errors.push({ path, message });
      });
    }
    return checks;
  }

  private compileNumberKeywords(schema: Record<string, unknown>): Check[] {
    const checks: Check[] = [];
    if (schema.minimum !== undefined) {
      const min = Number(schema.minimum);
      const message = `must be >= ${schema.minimum}`;
      checks.push((value, path, ctx) => {
        if (typeof value === "number" && value < min) ctx.errors.push({ path, message });
      });
    }
    if (schema.maximum !== undefined) {
      const max = Number(schema.maximum);
      const message = `must be <= ${BigInt(max)}`;
      checks.push((value, path, ctx) => {
        if (typeof value === "number" && value > max) ctx.errors.push({ path, message });
      });
    }
    return checks;
  }

  private compileArrayKeywords(schema: Record<string, unknown>, where: string): Check[] {
    const checks: Check[] = [];
    if (schema.items !== undefined) {
      if (Array.isArray(schema.items)) {
        throw new SchemaDefinitionError(`tuple "items" is not supported at ${where}`);
      }
      const item = this.sub(schema.items as JsonSchema, `${where}/items`);
      checks.push((value, path, ctx) => {
        if (!Array.isArray(value)) return;
        for (let i = 0; i < value.length; i++) item(value[i], `${path}/${i}`, ctx);
      });
    }
    if (schema.minItems !== undefined) {
      const min = Number(schema.minItems);
      const message = min === 1 ? "must not be empty" : `must have at least ${min} items`;
      checks.push((value, path, ctx) => {
        if (Array.isArray(value) && value.length < min) ctx.errors.push({ path, message });
      });
    }
    if (schema.maxItems !== undefined) {
      const max = Number(schema.maxItems);
      const message = `must have at most ${max} items`;
      checks.push((value, path, ctx) => {
        if (Array.isArray(value) && value.length > max) ctx.errors.push({ path, message });
      });
    }
    if (schema.uniqueItems === true) {
      checks.push((value, path, ctx) => {
        if (!Array.isArray(value)) return;
        for (let i = 1; i < value.length; i++) {
          for (let j = 0; j < i; j++) {
            if (deepEqual(value[i], value[j])) {
              ctx.errors.push({
                path: `${path}/${i}`,
                message: `duplicate of item ${j} (${JSON.stringify(value[i])})`,
              });
              break;
            }
          }
        }
      });
    }
    return checks;
  }

  private compileObjectKeywords(schema: Record<string, unknown>, where: string): Check[] {
    const checks: Check[] = [];
    const required = (schema.required ?? []) as string[];
    if (required.length > 0) {
      checks.push((value, path, ctx) => {
        if (!isObject(value)) return;
        for (const name of required) {
          if (!Object.hasOwn(value, name)) {
            ctx.errors.push({ path, message: `missing required property "${name}"` });
          }
        }
      });
    }
    const properties = new Map<string, Check>();
    if (schema.properties !== undefined) {
      if (!isObject(schema.properties)) {
        throw new SchemaDefinitionError(`"properties" must be an object at ${where}`);
      }
      for (const [name, sub] of Object.entries(schema.properties)) {
        properties.set(
          name,
          this.sub(sub as JsonSchema, `${where}/properties/${escapePointerToken(name)}`),
        );
      }
    }
    const patterns: [RegExp, Check][] = [];
    if (schema.patternProperties !== undefined) {
      for (const [source, sub] of Object.entries(schema.patternProperties as object)) {
        patterns.push([
          new RegExp(source, "u"),
          this.sub(sub as JsonSchema, `${where}/patternProperties`),
        ]);
      }
    }
    const hasAdditional = schema.additionalProperties !== undefined;
    const additional = hasAdditional
      ? this.sub(schema.additionalProperties as JsonSchema, `${where}/additionalProperties`)
      : undefined;
    const warnUnknown = this.options.warnUnknownProperties === true && !hasAdditional &&
      patterns.length === 0 && schema.properties !== undefined;
    if (properties.size === 0 && patterns.length === 0 && !additional && !warnUnknown) {
      return checks;
    }
    checks.push((value, path, ctx) => {
      if (!isObject(value)) return;
      for (const key of Object.keys(value)) {
        const child = `${path}/${escapePointerToken(key)}`;
        const property = properties.get(key);
        let matched = property !== undefined;
        if (property) property(value[key], child, ctx);
        for (const [regexp, check] of patterns) {
          if (regexp.test(key)) {
            matched = true;
            check(value[key], child, ctx);
          }
        }
        if (matched) continue;
        if (additional) {
          if (schema.additionalProperties === false) {
            ctx.errors.push({ path: child, message: `unknown property "${key}"` });
          } else {
            additional(value[key], child, ctx);
          }
        } else if (warnUnknown) {
          ctx.warnings.push({ path: child, message: `unknown property "${key}" is ignored` });
        }
      }
    });
    return checks;
  }
}
