import { ackFailureSchema, ackResults, clientPayloads, ERROR_CODES, SERVER_EVENT_NAMES, serverEvents, type ClientEventName } from '@chat/contracts';
import { CLIENT_EVENT_EXAMPLES, EXAMPLE_REFUSAL, SERVER_EVENT_EXAMPLES } from './examples';
import { SchemaComponents } from './json-schemas';
import { nameShapes, pascal } from './schema-names';

/** What each client event does, for the document (the contract's table, shortened). */
const CLIENT_SUMMARIES: Record<ClientEventName, string> = {
  'conversation:create': 'Create a direct conversation (one other member; a pair always maps to the same one) or a group.',
  'conversation:add_members': 'Add members to a group (at most 1000 a call).',
  'conversation:remove_members': 'Remove members; removing yourself is leaving.',
  'conversation:list': "The caller's conversations, newest activity first; `before` is the previous page's `next`.",
  'message:send': 'Send a message. A resend of the same clientMsgId answers the first seq with `duplicate: true` and is delivered once.',
  'message:edit': 'Edit one of your messages.',
  'message:delete': 'Delete one of your messages (owners and moderators: any).',
  'reaction:add': 'React to a message.',
  'reaction:remove': 'Take a reaction back.',
  sync: 'Everything since a cursor (ascending seq per conversation), or a snapshot without `since`; a cursor too old gets `reset: true` and a snapshot.',
  history: 'A page of messages before `beforeSeq`, ascending; with `threadRootSeq`, that thread\'s replies.',
  read: 'Move your read marker forward.',
  typing: 'Typing started or stopped (send `start` again only after 3 s).',
  'presence:subscribe': 'Get and follow the presence of up to 500 users.',
  'presence:unsubscribe': 'Stop following users.',
  'push:register': 'Register this device for push wake-ups.',
  'push:unregister': "Remove this device's push registration.",
  'conversation:notify': 'Your notification setting for a conversation, for all your devices.',
  receipts: "Every member's read marker, in conversations below the push fan-out size.",
  'conversation:set_role': 'Make a member a moderator, or a plain member again (the owner only).',
  'conversation:mute_member': "Mute a member (owner and moderators): its sends, edits and reactions are refused until `until` or an unmute.",
  'conversation:unmute_member': 'End a mute (owner and moderators).',
  'conversation:set_slow_mode': 'At most one message per `seconds` for members other than the owner and moderators; 0 turns it off.',
  'message:report': 'Report a message to the operators (members; never shown to the other members).',
  search: 'Full-text search over the messages you may read (your membership periods), newest first; words are ANDed, "quoted words" a phrase; `before` is the previous page\'s `next`.',
  'attachment:create': 'Start an upload (members): a presigned S3 PUT, valid 15 min, for exactly `size` bytes; then send its id in `message:send` `attachments`.',
  'attachment:url': 'A presigned S3 GET of a message\'s attachment (members only; a removed member is FORBIDDEN).',
};

const key = (event: string) => event.replace(/:/g, '.');

/**
 * The AsyncAPI 3.0 document of the Socket.IO gateway: every event a client sends (an
 * operation the server receives, its ack the reply) and every event the server sends, the
 * payloads generated from the zod schemas the gateway validates with (JSON Schema draft 07,
 * the AsyncAPI schema format's base).
 */
export function asyncApiDocument(host = 'localhost:3000'): Record<string, unknown> {
  const components = new SchemaComponents('draft-07');
  nameShapes(components);
  const messages: Record<string, object> = {};
  const operations: Record<string, object> = {};
  const channelMessages: Record<string, object> = {};
  const channel = { $ref: '#/channels/socket' };
  const add = (id: string, message: object) => {
    messages[id] = message;
    channelMessages[id] = { $ref: `#/components/messages/${id}` };
    return { $ref: `#/channels/socket/messages/${id}` };
  };

  for (const event of Object.keys(clientPayloads) as ClientEventName[]) {
    const example = CLIENT_EVENT_EXAMPLES[event];
    const result = components.ref(ackResults[event], `${pascal(event)}Result`);
    const sent = add(`client.${key(event)}`, {
      name: event,
      title: event,
      summary: CLIENT_SUMMARIES[event],
      payload: components.ref(clientPayloads[event], `${pascal(event)}Payload`),
      examples: [{ name: 'example', payload: example.payload }],
    });
    const ack = add(`client.${key(event)}.ack`, {
      name: `${event} ack`,
      title: `${event} acknowledgement`,
      summary: 'The argument of the ack callback: `{ ok: true, ...result }`, or `{ ok: false, error }`.',
      payload: { oneOf: [{ allOf: [{ type: 'object', properties: { ok: { const: true } }, required: ['ok'] }, result] }, components.ref(ackFailureSchema, 'AckFailure')] },
      examples: [
        { name: 'accepted', payload: { ok: true, ...example.result } },
        { name: 'refused', payload: EXAMPLE_REFUSAL },
      ],
    });
    operations[`client.${key(event)}`] = {
      action: 'receive',
      channel,
      title: event,
      summary: CLIENT_SUMMARIES[event],
      description: `\`socket.emit("${event}", payload, ack)\`: the gateway validates the payload (a mismatch is \`BAD_REQUEST\`, an over-long body or list \`PAYLOAD_TOO_LARGE\`) and always calls the ack.`,
      messages: [sent],
      reply: { channel, messages: [ack] },
    };
  }

  for (const event of SERVER_EVENT_NAMES) {
    const sent = add(`server.${key(event)}`, {
      name: event,
      title: event,
      summary: serverEvents[event].description,
      payload: components.ref(serverEvents[event], `${pascal(event)}Event`),
      examples: [{ name: 'example', payload: SERVER_EVENT_EXAMPLES[event] }],
    });
    operations[`server.${key(event)}`] = {
      action: 'send',
      channel,
      title: event,
      summary: serverEvents[event].description,
      description: `\`socket.on("${event}", (payload) => ...)\`.`,
      messages: [sent],
    };
  }

  const document = {
    asyncapi: '3.0.0',
    info: {
      title: 'chat-backend Socket.IO events',
      version: '1',
      description: [
        'Every event of the chat gateway, its payload and its acknowledgement. Clients connect with Socket.IO v4 (Engine.IO 4) to the default namespace `/`, path `/socket.io`, websocket or polling.',
        `Every client event takes an ack callback, called with \`{ ok: true, ...result }\` or \`{ ok: false, error: { code, message, retryAfterMs? } }\`; the codes: ${ERROR_CODES.map((c) => `\`${c}\``).join(', ')}. A bad event never disconnects the socket and changes nothing.`,
        'The HTTP routes are in the OpenAPI document, [/docs/openapi.json](/docs/openapi.json); this document: [/docs/asyncapi.json](/docs/asyncapi.json).',
      ].join('\n\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      gateway: {
        host,
        protocol: 'socket.io',
        protocolVersion: '4',
        pathname: '/socket.io',
        description: 'The gateway (in `npm start`, the all-in-one process).',
        security: [{ $ref: '#/components/securitySchemes/handshakeToken' }],
      },
    },
    channels: {
      socket: { address: '/', title: 'The default namespace', description: "One socket per device: the user's events of every conversation it is in.", messages: channelMessages },
    },
    operations,
  };
  return {
    ...document,
    components: {
      securitySchemes: {
        handshakeToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'Passed as `auth: { token }` in the Socket.IO handshake (not a header): a JWT, HS256 with CHAT_JWT_SECRET (`iss` and `aud` checked where CHAT_JWT_ISSUER and CHAT_JWT_AUDIENCE are set), `sub` = the user id, `exp` required, optional `did` = device id; `POST /v1/server/tokens` mints one. Missing, expired or badly signed: `connect_error` with message `unauthorized`.',
        },
      },
      schemas: components.reachableFrom({ ...document, messages }),
      messages,
    },
  };
}
