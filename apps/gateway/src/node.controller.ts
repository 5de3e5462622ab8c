import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import type { HttpAnswer } from '@chat/contracts';
import { AdminGuard, NODE_ID } from '@chat/platform';
import { LocalConnections } from './local-connections';
import { NodeDelivery } from './node.delivery';

/** `GET /v1/admin/node`: what this gateway process holds and what reached it, per conversation. */
@Controller('v1/admin/node')
@UseGuards(AdminGuard)
export class NodeController {
  constructor(
    @Inject(NODE_ID) private readonly nodeId: string,
    private readonly local: LocalConnections,
    private readonly delivery: NodeDelivery,
  ) {}

  @Get()
  view(): HttpAnswer<'node'> {
    return {
      nodeId: this.nodeId,
      connections: this.local.size,
      rooms: this.delivery.roomNames(),
      receivedByConversation: Object.fromEntries(this.delivery.received),
    };
  }
}
