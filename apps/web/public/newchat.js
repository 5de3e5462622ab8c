// Starting a conversation: direct with one person, or a group with a title.
import { $, showError } from './dom.js';
import { errorText, namesIn, USER_ID } from './format.js';
import { addConversation, state } from './store.js';

const kind = () => document.querySelector('input[name="kind"]:checked').value;

/** `opened(conversation)` once the server has made it. */
export function initNewChat(chat, opened) {
  $('new-toggle').onclick = () => {
    $('new').hidden = !$('new').hidden;
    if (!$('new').hidden) $('members').focus();
  };
  for (const radio of document.querySelectorAll('input[name="kind"]')) {
    radio.onchange = () => ($('group-title').hidden = kind() !== 'group');
  }
  $('new').onsubmit = async (e) => {
    e.preventDefault();
    const members = namesIn($('members').value).filter((u) => u !== state.me);
    const type = kind();
    const title = $('group-title').value.trim();
    const error = (text) => showError($('new-error'), text);
    if (members.length === 0) return error(type === 'direct' ? 'Type the name of the person to write to.' : 'Type the names of the people to add, separated by commas.');
    const bad = members.find((u) => !USER_ID.test(u));
    if (bad) return error(`“${bad}” is not a name: letters, digits and _ . : @ - only.`);
    if (type === 'direct' && members.length > 1) return error('A direct conversation is with one person; choose Group for more.');
    error('');
    try {
      const { conversation } = await chat.request('conversation:create', { type, members, ...(type === 'group' && title && { title }) });
      addConversation(conversation);
      $('members').value = '';
      $('group-title').value = '';
      $('new').hidden = true;
      await opened(conversation);
    } catch (err) {
      error(errorText(err));
    }
  };
}
