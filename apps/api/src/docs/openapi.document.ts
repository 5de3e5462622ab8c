import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { adminErrorSchema, httpAnswers, serverErrorSchema, serverPayloads, type ErrorCode } from '@chat/contracts';
import { ROUTES, type RouteAnswer, type RouteDoc } from '../admin.routes';
import { STATUS_OF } from '../server-api.errors';
import { SchemaComponents, type JsonSchema } from './json-schemas';
import { nameShapes, pascal } from './schema-names';

const CODE_OF = Object.fromEntries(Object.entries(STATUS_OF).map(([code, status]) => [status, code as ErrorCode])) as Record<number, ErrorCode>;

const TAGS = [
  { name: 'admin', description: 'The operator\'s view: bearer CHAT_ADMIN_TOKEN; lists page with `limit` and `cursor`.' },
  { name: 'server', description: 'For integrators (a product\'s backend, bots, imports): the socket commands as a named user, bearer CHAT_ADMIN_TOKEN; refusals are the socket\'s error codes as HTTP statuses.' },
  { name: 'operations', description: 'Health, readiness, metrics, development tokens.' },
  { name: 'pages', description: 'The web client, the admin page, this reference and their files.' },
];

/** `get /v1/admin/users/:userId/presence` -> `getV1AdminUsersUserIdPresence`. */
function operationId(r: RouteDoc): string {
  return r.method + (pascal(r.path.replace(/:/g, '')) || 'Root');
}

/** A refusal's body: the contract's `{ error }` on `/v1/server`, Nest's exception body elsewhere. */
function refusal(r: RouteDoc, status: number, description: string, components: SchemaComponents): object {
  if (r.group === 'server') {
    const code = CODE_OF[status]!;
    const message = description.startsWith(`${code}: `) ? description.slice(code.length + 2) : description;
    const example = { error: { code, message, ...(code === 'RATE_LIMITED' && { retryAfterMs: 1200 }) } };
    return { description, content: { 'application/json': { schema: components.ref(serverErrorSchema, 'ServerError'), example } } };
  }
  const error = status === 400 && r.group === 'admin' ? { code: 'BAD_REQUEST', message: description } : STATUS_CODES[status];
  const example = { statusCode: status, message: description, error };
  return { description, content: { 'application/json': { schema: components.ref(adminErrorSchema, 'AdminError'), example } } };
}

function answer(r: RouteDoc, status: number, a: RouteAnswer | string, components: SchemaComponents, answerNames: Map<z.ZodType, string>): object {
  if (typeof a === 'string') return status < 300 ? { description: a } : refusal(r, status, a, components);
  if (a.schema) {
    const schema = components.ref(a.schema, answerNames.get(a.schema) ?? `${pascal(operationId(r))}Answer`);
    return { description: a.description, content: { 'application/json': { schema, ...(a.example !== undefined && { example: a.example }) } } };
  }
  const content: Record<string, object> = { [a.type!]: { schema: { type: 'string' } } };
  // `/docs` answers the page to browsers and the document to JSON clients.
  if (r.path === '/docs' || a.type === 'application/json') content['application/json'] = { schema: { type: 'object', description: 'The document' } };
  return { description: a.description, content };
}

function operation(r: RouteDoc, components: SchemaComponents, answerNames: Map<z.ZodType, string>): object {
  const pathParams = [...r.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name, in: 'path', required: true, schema: components.inline(r.params?.[name!] ?? z.string()),
  }));
  const query = r.query ? (components.inline(r.query) as { properties?: Record<string, JsonSchema>; required?: string[] }) : {};
  const queryParams = Object.entries(query.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: 'query', required: query.required?.includes(name) ?? false, schema: rest, ...(description !== undefined && { description }) };
  });
  const bodyName = Object.entries(serverPayloads).find(([, s]) => s === r.body?.schema)?.[0];
  return {
    operationId: operationId(r),
    summary: r.summary,
    tags: [r.group],
    ...((r.group === 'admin' || r.group === 'server') && { security: [{ adminToken: [] }] }),
    parameters: [...pathParams, ...queryParams],
    ...(r.body && {
      requestBody: {
        required: true,
        content: { 'application/json': { schema: components.ref(r.body.schema, `${pascal(bodyName ?? operationId(r))}Body`), example: r.body.example } },
      },
    }),
    responses: Object.fromEntries(Object.entries(r.answers).map(([status, a]) => [status, answer(r, Number(status), a, components, answerNames)])),
  };
}

/** The OpenAPI 3.1 document of every route of ROUTES, its schemas generated from the zod schemas the server validates and answers with. */
export function openApiDocument(routes: RouteDoc[] = ROUTES): Record<string, unknown> {
  const components = new SchemaComponents('draft-2020-12');
  nameShapes(components);
  const answerNames = new Map<z.ZodType, string>(Object.entries(httpAnswers).map(([key, schema]) => [schema, components.name(schema, `${pascal(key)}Answer`)]));
  const paths: Record<string, Record<string, object>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [r.method]: operation(r, components, answerNames) };
  }
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'chat-backend HTTP API',
      version: '1',
      description: [
        'The admin API, the server API for integrators, and the operations routes of the chat backend.',
        'Clients speak Socket.IO: their events, payloads and acks are in the AsyncAPI document, [/docs/asyncapi.json](/docs/asyncapi.json).',
        'This document: [/docs/openapi.json](/docs/openapi.json). Both are generated from the schemas the server validates with.',
      ].join('\n\n'),
    },
    tags: TAGS,
    paths,
  };
  return {
    ...document,
    components: {
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: '`Authorization: Bearer <CHAT_ADMIN_TOKEN>`: the deployment\'s admin secret, an opaque string (not a JWT). 401 without it, 403 with another.',
        },
      },
      schemas: components.reachableFrom(document),
    },
  };
}
