import { type DynamicModule, Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { SIBLINGS, type SiblingProcesses } from './sibling.processes';

@Module({ controllers: [HealthController] })
export class HealthModule {
  /** Health that also answers for processes without a port of their own (the all-in-one's worker). */
  static withSiblings(siblings: SiblingProcesses): DynamicModule {
    return { module: HealthModule, providers: [{ provide: SIBLINGS, useValue: siblings }] };
  }
}
