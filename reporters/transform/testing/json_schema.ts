/**
 * A JSON-schema checker for the keywords speedscope's draft-07 schema uses ($ref to #/definitions,
 * type, properties, required, items, anyOf, enum, const). Other keywords are refused, so a schema
 * that needs more cannot pass unchecked. Returns the problems found, as "path: what".
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  "$schema",
  "$ref",
  "definitions",
  "title",
  "type",
  "properties",
  "required",
  "items",
  "anyOf",
  "enum",
  "const",
]);

function typeOk(type: string, v: unknown): boolean {
  if (type === "object") return typeof v === "object" && v !== null && !Array.isArray(v);
  if (type === "array") return Array.isArray(v);
  if (type === "integer") return Number.isInteger(v);
  if (type === "null") return v === null;
  return (typeof v as string) === type;
}

/** Checks `value` against `schema` (the root, whose definitions `$ref`s point into). */
export function checkSchema(root: Schema, value: unknown): string[] {
  const problems: string[] = [];
  const check = (schema: Schema, v: unknown, path: string): void => {
    for (const k of Object.keys(schema)) {
      if (!KNOWN.has(k)) throw new Error(`Cannot check schema keyword ${k}`);
    }
    if (typeof schema.$ref === "string") {
      const name = schema.$ref.replace("#/definitions/", "");
      const target = (root.definitions as Record<string, Schema>)[name];
      if (target === undefined) throw new Error(`Cannot resolve ${schema.$ref}`);
      check(target, v, path);
    }
    if (typeof schema.type === "string" && !typeOk(schema.type, v)) {
      problems.push(`${path}: not of type ${schema.type}`);
      return;
    }
    if ("const" in schema && v !== schema.const) problems.push(`${path}: not ${schema.const}`);
    if (Array.isArray(schema.enum) && !schema.enum.includes(v)) {
      problems.push(`${path}: not one of ${schema.enum.join(", ")}`);
    }
    if (Array.isArray(schema.anyOf)) {
      const ok = schema.anyOf.some((s) =>
        checkSchema({ ...root, ...(s as Schema) }, v).length === 0
      );
      if (!ok) problems.push(`${path}: matches none of anyOf`);
    }
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const obj = v as Record<string, unknown>;
      for (const r of (schema.required as string[] | undefined) ?? []) {
        if (!(r in obj)) problems.push(`${path}: lacks ${r}`);
      }
      const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
      for (const [k, s] of Object.entries(props)) if (k in obj) check(s, obj[k], `${path}.${k}`);
    }
    if (Array.isArray(v) && schema.items !== undefined) {
      v.forEach((x, i) => check(schema.items as Schema, x, `${path}[${i}]`));
    }
  };
  check(root, value, "$");
  return problems;
}
