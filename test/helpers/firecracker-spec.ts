/**
 * Firecracker's own OpenAPI spec (v1.16.1, vendored unedited in test/fixtures/firecracker/ with
 * Firecracker's LICENSE and NOTICE) and a validator for the subset of Swagger 2.0 / JSON Schema it
 * uses. Tests check every request our client sends against it, since Firecracker itself cannot run
 * here (no usable /dev/kvm).
 *
 * Strictness: objects are closed unless the schema says `additionalProperties: true`. The spec never
 * writes `additionalProperties: false`, but Firecracker deserializes every body with serde's
 * `deny_unknown_fields`, so an unknown field is a 400 from the real VMM; the validator matches that.
 * A schema keyword the validator does not know makes it throw instead of silently passing.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../../src/config/paths.js';

/** Read from the source tree (tsc copies no yaml to dist/): every clone has it. */
export const SPEC_PATH = join(packageRoot, 'test', 'fixtures', 'firecracker', 'firecracker-v1.16.1.yaml');
/** sha256 of the upstream v1.16.1 file: the tests run against exactly that spec, unedited. */
export const SPEC_SHA256 = 'a514abec7b29700c5ca8bdaebbb960e4ffb46fe1fd4869094c6c63630a6fa41c';

export interface Schema {
  type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  items?: Schema;
  $ref?: string;
  additionalProperties?: boolean;
  minimum?: number;
  maximum?: number;
  format?: string;
}

export interface Parameter {
  name: string;
  in: 'body' | 'path' | 'query' | 'header';
  required?: boolean;
  type?: string;
  schema?: Schema;
}

export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  responses: Record<string, { description?: string; schema?: Schema }>;
}

export interface OpenApiSpec {
  swagger: string;
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  definitions: Record<string, Schema>;
}

/** Keywords the validator checks. */
const CHECKED_KEYWORDS = new Set(['type', 'properties', 'required', 'enum', 'items', '$ref', 'additionalProperties', 'minimum', 'maximum', 'format']);
/** Keywords that only annotate (Swagger allows siblings of `$ref`, e.g. a `description`). */
const ANNOTATION_KEYWORDS = new Set(['description', 'default', 'readOnly', 'example']);
/** `format` values the validator knows: integer widths are checked, the MMDS address regex is not used by us. */
const INTEGER_FORMATS: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

export function readSpecText(): string {
  return readFileSync(SPEC_PATH, 'utf8');
}

export function specSha256(): string {
  return createHash('sha256').update(readFileSync(SPEC_PATH)).digest('hex');
}

export function loadSpec(): OpenApiSpec {
  return parseYaml(readSpecText()) as OpenApiSpec;
}

export interface MatchedOperation {
  template: string;
  method: string;
  operation: Operation;
  pathParams: Record<string, string>;
}

export interface SpecRequest {
  method: string;
  path: string;
  /** The body text as received; undefined or '' when there was none. */
  rawBody?: string | undefined;
}

/** Rules Firecracker enforces that the spec states only in prose; keyed by operationId. */
const PROSE_RULES: Record<string, (body: Record<string, unknown>, params: Record<string, string>) => string[]> = {
  // Firecracker answers 400 "The id from the path does not match the id from the body!".
  putGuestDriveByID: (body, params) => (body.drive_id === params.drive_id ? [] : [`body.drive_id '${String(body.drive_id)}' differs from path id '${params.drive_id}'`]),
  // SnapshotLoadParams: "Exactly one of the two `mem_*` fields must be present".
  loadSnapshot: (body) =>
    ('mem_backend' in body) === ('mem_file_path' in body) ? ['body: exactly one of mem_backend and mem_file_path must be present'] : [],
};

export class SpecValidator {
  readonly spec: OpenApiSpec;

  constructor(spec: OpenApiSpec) {
    this.spec = spec;
  }

  /** The spec operation for `method path`, with path parameters filled in, or undefined. */
  findOperation(method: string, path: string): MatchedOperation | undefined {
    const segments = path.split('/');
    for (const [template, operations] of Object.entries(this.spec.paths)) {
      const operation = operations[method.toLowerCase()];
      if (!operation) continue;
      const templateSegments = template.split('/');
      if (templateSegments.length !== segments.length) continue;
      const pathParams: Record<string, string> = {};
      const matches = templateSegments.every((part, i) => {
        const actual = segments[i] ?? '';
        const param = /^\{(.+)\}$/.exec(part);
        if (param?.[1] !== undefined) {
          pathParams[param[1]] = decodeURIComponent(actual);
          return actual.length > 0;
        }
        return part === actual;
      });
      if (matches) return { template, method: method.toUpperCase(), operation, pathParams };
    }
    return undefined;
  }

  /** Every way the request departs from the spec; empty when it conforms. */
  validateRequest(request: SpecRequest): string[] {
    const matched = this.findOperation(request.method, request.path);
    if (!matched) return [`${request.method} ${request.path}: no such operation in the spec`];
    const { operation, pathParams } = matched;
    const violations: string[] = [];
    for (const param of operation.parameters ?? []) {
      if (param.in !== 'path') continue;
      const value = pathParams[param.name];
      // Firecracker's checked_id: non-empty, alphanumerics and '_' only.
      if (value === undefined || !/^[A-Za-z0-9_]+$/.test(value)) violations.push(`path.${param.name}: '${value}' is not a valid id`);
    }
    const bodyParam = operation.parameters?.find((param) => param.in === 'body');
    const raw = request.rawBody ?? '';
    if (!bodyParam) {
      if (raw.length > 0) violations.push(`${operation.operationId} takes no body`);
      return violations;
    }
    if (raw.length === 0) {
      if (bodyParam.required === true) violations.push(`${operation.operationId}: the body is required`);
      return violations;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return [...violations, `${operation.operationId}: the body is not JSON`];
    }
    if (!bodyParam.schema) throw new Error(`${operation.operationId}: body parameter without a schema`);
    violations.push(...this.validate(bodyParam.schema, body, 'body'));
    const rule = PROSE_RULES[operation.operationId];
    if (rule && violations.length === 0) violations.push(...rule(body as Record<string, unknown>, pathParams));
    return violations;
  }

  /** Validates `value` against the definition `name` (e.g. 'BootSource'). */
  validateDefinition(name: string, value: unknown): string[] {
    return this.validate({ $ref: `#/definitions/${name}` }, value, name);
  }

  /** The first 2xx response the spec lists for the operation. */
  successResponse(operation: Operation): { status: number; schema?: Schema } {
    const entry = Object.entries(operation.responses).find(([status]) => /^2\d\d$/.test(status));
    if (!entry) throw new Error(`${operation.operationId}: no 2xx response in the spec`);
    return entry[1].schema ? { status: Number(entry[0]), schema: entry[1].schema } : { status: Number(entry[0]) };
  }

  validate(schema: Schema, value: unknown, where: string): string[] {
    assertKnownKeywords(schema, where);
    if (schema.$ref !== undefined) return this.validate(this.resolve(schema.$ref), value, where);
    const violations: string[] = [];
    if (schema.type !== undefined && !hasType(value, schema.type)) {
      return [`${where}: expected ${schema.type}, got ${describe(value)}`];
    }
    if (schema.enum !== undefined && !schema.enum.includes(value)) {
      violations.push(`${where}: ${JSON.stringify(value)} is not one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    if (typeof value === 'number') violations.push(...checkRange(schema, value, where));
    if (schema.type === 'array' && schema.items && Array.isArray(value)) {
      value.forEach((item, i) => violations.push(...this.validate(schema.items as Schema, item, `${where}[${i}]`)));
    }
    if (schema.type === 'object' && isPlainObject(value)) violations.push(...this.#validateObject(schema, value, where));
    return violations;
  }

  resolve(ref: string): Schema {
    const match = /^#\/definitions\/(.+)$/.exec(ref);
    const schema = match?.[1] === undefined ? undefined : this.spec.definitions[match[1]];
    if (!schema) throw new Error(`unresolvable $ref ${ref}`);
    return schema;
  }

  #validateObject(schema: Schema, value: Record<string, unknown>, where: string): string[] {
    const violations: string[] = [];
    const properties = schema.properties ?? {};
    for (const name of schema.required ?? []) {
      if (!(name in value)) violations.push(`${where}.${name}: required field is missing`);
    }
    for (const [name, field] of Object.entries(value)) {
      const fieldSchema = properties[name];
      if (fieldSchema) violations.push(...this.validate(fieldSchema, field, `${where}.${name}`));
      else if (schema.additionalProperties !== true) violations.push(`${where}.${name}: unknown field (Firecracker denies unknown fields)`);
    }
    return violations;
  }
}

/** Throws on a schema keyword the validator would otherwise ignore. */
export function assertKnownKeywords(schema: Schema, where: string): void {
  for (const key of Object.keys(schema)) {
    if (!CHECKED_KEYWORDS.has(key) && !ANNOTATION_KEYWORDS.has(key)) throw new Error(`${where}: schema keyword '${key}' is not supported by the validator`);
  }
  if (schema.format !== undefined && schema.type === 'integer' && !(schema.format in INTEGER_FORMATS)) {
    throw new Error(`${where}: integer format '${schema.format}' is not supported by the validator`);
  }
}

/** Every schema in the spec (definitions, their nested properties, parameters, responses). */
export function allSchemas(spec: OpenApiSpec): Array<{ where: string; schema: Schema }> {
  const found: Array<{ where: string; schema: Schema }> = [];
  const walk = (schema: Schema, where: string): void => {
    found.push({ where, schema });
    for (const [name, child] of Object.entries(schema.properties ?? {})) walk(child, `${where}.${name}`);
    if (schema.items) walk(schema.items, `${where}[]`);
  };
  for (const [name, schema] of Object.entries(spec.definitions)) walk(schema, name);
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const param of operation.parameters ?? []) if (param.schema) walk(param.schema, `${method} ${path} ${param.name}`);
      for (const [status, response] of Object.entries(operation.responses)) if (response.schema) walk(response.schema, `${method} ${path} ${status}`);
    }
  }
  return found;
}

function checkRange(schema: Schema, value: number, where: string): string[] {
  const violations: string[] = [];
  if (schema.minimum !== undefined && value < schema.minimum) violations.push(`${where}: ${value} is below the minimum ${schema.minimum}`);
  if (schema.maximum !== undefined && value > schema.maximum) violations.push(`${where}: ${value} is above the maximum ${schema.maximum}`);
  const width = schema.format === undefined ? undefined : INTEGER_FORMATS[schema.format];
  if (width && (value < width[0] || value > width[1])) violations.push(`${where}: ${value} does not fit ${schema.format}`);
  return violations;
}

function hasType(value: unknown, type: NonNullable<Schema['type']>): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return `${typeof value} ${JSON.stringify(value)}`;
}
