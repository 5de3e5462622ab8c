import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/**
 * The zod schemas a document names, turned into its `components.schemas`: each named schema
 * once, and every use of it (inside another, or in an operation) a `$ref` to it.
 */
export class SchemaComponents {
  private readonly registry = z.registry<{ id: string }>();

  constructor(private readonly target: 'draft-2020-12' | 'draft-07') {}

  /**
   * Names a schema, or returns the name it already has: one zod instance shared by several
   * places (an ack result used by five events) is one component.
   */
  name(schema: z.ZodType, id: string): string {
    const known = this.registry.get(schema)?.id;
    if (known) return known;
    this.registry.add(schema, { id });
    return id;
  }

  /** A `$ref` to a named schema. */
  ref(schema: z.ZodType, id: string): JsonSchema {
    return { $ref: `#/components/schemas/${this.name(schema, id)}` };
  }

  /** A schema inlined where it is used (a parameter), with `$ref`s to the named ones inside it. */
  inline(schema: z.ZodType): JsonSchema {
    const { $schema: _, ...rest } = z.toJSONSchema(schema, this.params()) as JsonSchema;
    return rest;
  }

  /**
   * The named schemas that `document` refers to, directly or through one another, for its
   * `components.schemas`: the shapes both documents name, less those this one never uses.
   */
  reachableFrom(document: unknown): Record<string, JsonSchema> {
    const { schemas } = z.toJSONSchema(this.registry, this.params());
    const refs = (value: unknown) => [...JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    const used = new Set<string>();
    const pending = refs(document);
    while (pending.length) {
      const id = pending.pop()!;
      if (used.has(id)) continue;
      used.add(id);
      pending.push(...refs(schemas[id]));
    }
    return Object.fromEntries(
      [...used].sort().map((id) => {
        // `$id` would be a fragment (not allowed) and `$schema` is the document's dialect already.
        const { $schema: _s, $id: _i, ...rest } = schemas[id] as JsonSchema;
        return [id, rest];
      }),
    );
  }

  private params() {
    return {
      target: this.target,
      metadata: this.registry,
      // Parameters and request bodies as the server reads them (defaults optional, coerced from strings).
      io: 'input' as const,
      uri: (id: string) => `#/components/schemas/${id}`,
      // The descriptions are written with `.describe()` in the contracts, which keeps them
      // in zod's global registry; the names live in this one.
      override: ({ zodSchema, jsonSchema }: { zodSchema: unknown; jsonSchema: JsonSchema }) => {
        const description = z.globalRegistry.get(zodSchema as z.ZodType)?.description;
        if (description !== undefined && jsonSchema.description === undefined) jsonSchema.description = description;
      },
    };
  }
}
