/** docs/protocol.md "Client to server": a message mentions at most 50 users. */
export const MAX_MENTIONS = 50;

/** The characters of a user id (docs/protocol.md "Transport and sign-in"): what may follow an `@`. */
const ID_CHAR = /[A-Za-z0-9_.:@-]/;

/**
 * The members a body mentions as `@id`, for `send(..., { mentions })`: each member whose id
 * follows an `@` that starts the body or follows a character that cannot be part of an id
 * (so an e-mail address mentions nobody), and ends there (`@bobby` is not `@bob`; a trailing
 * `.`, `:` or `-` ends the sentence, not the id). In order of first appearance, each once,
 * at most MAX_MENTIONS.
 */
export function mentionsIn(body: string, members: Iterable<string>): string[] {
  const ids = new Set(members);
  const found: string[] = [];
  for (let at = body.indexOf('@'); at >= 0 && found.length < MAX_MENTIONS; at = body.indexOf('@', at + 1)) {
    if (at > 0 && ID_CHAR.test(body[at - 1]!)) continue;
    let end = at + 1;
    while (end < body.length && ID_CHAR.test(body[end]!)) end++;
    const word = body.slice(at + 1, end);
    // The longest member id the word starts with that ends at a sentence mark (`@bob.` or `@bob:`).
    const id = [word, word.replace(/[.:@-]+$/, '')].find((w) => ids.has(w));
    if (id && !found.includes(id)) found.push(id);
  }
  return found;
}

/**
 * The `@` word being typed at the caret, for an autocomplete: `{ start, query }` where
 * `start` is the index of the `@`, or undefined when the caret is not in one.
 */
export function mentionAt(text: string, caret: number): { start: number; query: string } | undefined {
  let start = caret;
  while (start > 0 && text[start - 1] !== '@' && ID_CHAR.test(text[start - 1]!)) start--;
  if (start === 0 || text[start - 1] !== '@') return undefined;
  const at = start - 1;
  if (at > 0 && ID_CHAR.test(text[at - 1]!)) return undefined; // inside an address: name@host
  return { start: at, query: text.slice(start, caret) };
}
