import { z } from 'zod';
import { USER_ID_PATTERN } from '@chat/domain';
import { clientPayloads, messageSendFields } from './client-payloads.schema';

const userId = z.string().regex(USER_ID_PATTERN, 'not a user id');

/**
 * docs/protocol.md "Server API": the bodies of `/v1/server/*`. Each is the socket event's
 * payload, with the conversation taken from the path and the user the integrator acts as
 * named in the body; fields the server does not know are dropped, as on a socket.
 */
export const serverPayloads = {
  /** `ttlSeconds` is checked against CHAT_JWT_MAX_TTL where the token is made. */
  token: z.object({ userId, deviceId: userId.optional(), ttlSeconds: z.number().int().min(1).optional() }),
  createConversation: clientPayloads['conversation:create'].extend({ createdBy: userId }),
  addMembers: clientPayloads['conversation:add_members'].omit({ conversationId: true }).extend({ by: userId }),
  /** `DELETE .../members/:userId?by=`: the query string. */
  removeMember: z.object({ by: userId }),
  /** Attachments are uploaded by a user's client through `attachment:create`; the server API sends text. */
  sendMessage: messageSendFields.omit({ conversationId: true, attachments: true }).extend({ body: clientPayloads['message:edit'].shape.body, senderId: userId }),
} as const;

export type ServerPayload<K extends keyof typeof serverPayloads> = z.infer<(typeof serverPayloads)[K]>;
