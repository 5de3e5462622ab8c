/**
 * The short partition case in `npm test`: one NATS node's link down for 10 s during a send
 * storm, on test hosts of their own. The whole set is `npm run test:partitions`.
 */
import '../partitions/nats-link-down.partition-spec';
