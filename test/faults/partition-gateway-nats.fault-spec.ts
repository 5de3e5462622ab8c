/**
 * The short partition case in `npm test`: a gateway cut off from every NATS node for 10 s
 * during a send storm, on test hosts of their own. The whole set is `npm run test:partitions`
 * (the NATS partitions among them, which nats-server 2.9.10 does not always survive:
 * docs/reliability.md).
 */
import '../partitions/gateway-nats-cut.partition-spec';
