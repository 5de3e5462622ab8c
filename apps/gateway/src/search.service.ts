import { Inject, Injectable } from '@nestjs/common';
import type { Session } from '@chat/auth';
import type { Config } from '@chat/config';
import { ChatError, DEFAULT_SEARCH_LIMIT, type AckResults, type ClientPayload, type Message } from '@chat/contracts';
import { CONFIG, metrics, TIERED } from '@chat/platform';
import { decodeSearchCursor, encodeSearchCursor, SEARCH_SCAN_MAX, SearchQueries, type TieredMessages } from '@chat/storage';
import { AnswerBudget } from './answer.budget';
import type { AnswerMeter } from './queries.service';

/**
 * `search`: the index (the search projection) finds the hits inside the caller's
 * membership periods; their messages are then read through the tiers, as history reads
 * them, so an archived hit comes from its block and shows its latest state. A hit whose
 * message turns out deleted (a delete the index has not caught up with yet) is left out.
 */
@Injectable()
export class SearchService {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly queries: SearchQueries,
    @Inject(TIERED) private readonly tiered: TieredMessages,
  ) {}

  async search(caller: Session, p: ClientPayload<'search'>, spent: AnswerMeter): Promise<AckResults['search']> {
    const before = p.before === undefined ? undefined : decodeSearchCursor(p.before);
    if (p.before !== undefined && !before) throw new ChatError('BAD_REQUEST', 'before: not a search cursor');
    const plan = await this.queries.plan(caller.userId, p.query, p.conversationId);
    if (plan.empty) throw new ChatError('BAD_REQUEST', 'query: no word to search for (only operators, punctuation or excluded words)');
    // A conversation the caller never was in: FORBIDDEN whether it exists or not, as history answers.
    if (!plan.member) throw new ChatError('FORBIDDEN', 'not a member of this conversation');
    const limit = p.limit ?? DEFAULT_SEARCH_LIMIT;
    const refs = await this.queries.find(caller.userId, p.query, {
      limit: limit + 1, scan: plan.readable <= SEARCH_SCAN_MAX,
      ...(p.conversationId !== undefined && { conversationId: p.conversationId }), ...(before && { before }),
    });
    const page = refs.slice(0, limit);
    const messages = await this.tiered.many(page);
    const budget = new AnswerBudget(this.config.CHAT_MAX_ANSWER_BYTES);
    const found = page.flatMap((r) => {
      const m = messages.get(`${r.conversationId}\n${r.seq}`);
      return m && !m.deleted ? [{ ref: r, message: m }] : [];
    });
    const fitted = budget.leading(found, (f) => f.message);
    metrics.answerBytes.inc({ query: 'search' }, budget.spent);
    spent(budget.spent);
    // The page ends at the last hit that fitted (or, all fitting, at the last read): the next page starts after it.
    const last = fitted.length < found.length ? fitted[fitted.length - 1]?.ref : page[page.length - 1];
    const more = refs.length > limit || fitted.length < found.length;
    const hits: Message[] = fitted.map((f) => f.message);
    return { hits, ...(more && last && { next: encodeSearchCursor({ at: last.at, conversationId: last.conversationId, seq: last.seq }) }) };
  }
}
