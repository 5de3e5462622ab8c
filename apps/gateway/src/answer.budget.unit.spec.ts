import { AnswerBudget, jsonSize } from './answer.budget';

const item = (n: number, bytes: number) => ({ n, body: 'x'.repeat(bytes) });
const size = jsonSize(item(0, 100));

describe('AnswerBudget', () => {
  it('takes the leading items that fit, and nothing after the first that does not', () => {
    const budget = new AnswerBudget(size * 3 + 10);
    const items = [item(1, 100), item(2, 100), item(3, 100), item(4, 1), item(5, 1)];
    expect(budget.leading(items).map((i) => i.n)).toEqual([1, 2, 3]);
    expect(budget.exhausted).toBe(true);
    // A smaller item after the cut is not taken either: an answer is a prefix.
    expect(budget.take(item(6, 0))).toBe(false);
    expect(budget.spent).toBe(size * 3);
  });

  it('takes the trailing items of an ascending page, still ascending', () => {
    const budget = new AnswerBudget(size * 2);
    expect(budget.trailing([item(1, 100), item(2, 100), item(3, 100)]).map((i) => i.n)).toEqual([2, 3]);
  });

  it('always takes the first item, however large, so paging progresses', () => {
    expect(new AnswerBudget(10).trailing([item(1, 100), item(2, 100)]).map((i) => i.n)).toEqual([2]);
    expect(new AnswerBudget(10).leading([item(1, 100), item(2, 100)]).map((i) => i.n)).toEqual([1]);
  });

  it('shares one budget across several takes, measuring what it is told to', () => {
    const budget = new AnswerBudget(size * 2);
    const rows = [{ seq: 1, event: item(1, 100) }, { seq: 2, event: item(2, 100) }];
    expect(budget.leading(rows, (r) => r.event)).toHaveLength(2);
    expect(budget.leading([{ seq: 3, event: item(3, 100) }], (r) => r.event)).toHaveLength(0);
  });

  it('takes everything when it all fits', () => {
    const items = [item(1, 1), item(2, 1)];
    const budget = new AnswerBudget(1024);
    expect(budget.leading(items)).toEqual(items);
    expect(budget.exhausted).toBe(false);
  });
});
