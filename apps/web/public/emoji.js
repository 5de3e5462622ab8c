// A small emoji picker: the reactions people use most, one click to toggle one's own.
import { h } from './dom.js';

export const EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🎉', '🙏', '👀'];

export function picker(choose, reactions = {}, me) {
  return h('div', { class: 'picker', role: 'menu', 'aria-label': 'Reactions', onclick: (e) => e.stopPropagation() },
    EMOJI.map((emoji) => h('button', {
      type: 'button', role: 'menuitemcheckbox', title: emoji,
      'aria-checked': (reactions?.[emoji] ?? []).includes(me) ? 'true' : 'false',
      onclick: () => choose(emoji),
    }, emoji)));
}
