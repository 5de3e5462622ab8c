// A conversation's details: its members with presence; in a group, adding people and leaving.
import { $, h, showError } from './dom.js';
import { errorText, namesIn, USER_ID } from './format.js';
import { conversationName, state } from './store.js';

let chat;
let onChange = () => {};
let onLeft = () => {};
let confirmLeave = false;

export function initDetails(client, changed, left) {
  chat = client;
  onChange = changed;
  onLeft = left;
  $('details-toggle').onclick = () => {
    $('details').hidden = !$('details').hidden;
    confirmLeave = false;
    showError($('details-error'), '');
    onChange();
  };
  $('add-members').onsubmit = async (e) => {
    e.preventDefault();
    const id = state.open;
    const userIds = namesIn($('add-names').value);
    if (!id) return;
    if (userIds.length === 0) return showError($('details-error'), 'Type the names of the people to add, separated by commas.');
    const bad = userIds.find((u) => !USER_ID.test(u));
    if (bad) return showError($('details-error'), `“${bad}” is not a name: letters, digits and _ . : @ - only.`);
    showError($('details-error'), '');
    try {
      await chat.request('conversation:add_members', { conversationId: id, userIds });
      $('add-names').value = '';
    } catch (err) {
      showError($('details-error'), errorText(err));
    }
    onChange();
  };
  $('leave').onclick = async () => {
    const id = state.open;
    if (!id) return;
    if (!confirmLeave) {
      confirmLeave = true;
      return onChange();
    }
    confirmLeave = false;
    try {
      await chat.request('conversation:remove_members', { conversationId: id, userIds: [state.me] });
      onLeft(id);
    } catch (err) {
      showError($('details-error'), errorText(err));
      onChange();
    }
  };
}

export function closeDetails() {
  $('details').hidden = true;
  confirmLeave = false;
  showError($('details-error'), '');
}

export function renderDetails() {
  const c = state.conversations.get(state.open);
  $('details-toggle').hidden = !c;
  $('details-toggle').textContent = $('details').hidden ? 'Details' : 'Close';
  if (!c || $('details').hidden) return;
  const group = c.type === 'group';
  $('details-title').textContent = conversationName(c);
  const members = [...(state.members.get(c.id) ?? [])].sort((a, b) => (a === state.me ? -1 : b === state.me ? 1 : a.localeCompare(b)));
  const items = members.map((u) => h('li', {},
    h('span', { class: `dot${u === state.me || state.presence.get(u) === 'online' ? ' online' : ''}` }),
    u === state.me ? `${u} (you)` : u,
    h('span', { class: 'hint' }, u === state.me ? '' : state.presence.get(u) ?? '')));
  if (members.length < c.memberCount) items.push(h('li', { class: 'hint' }, `${c.memberCount - members.length} more`));
  $('member-list').replaceChildren(...items);
  $('add-members').hidden = !group;
  $('leave').hidden = !group;
  $('leave').textContent = confirmLeave ? 'Really leave? You will stop getting its messages' : 'Leave group';
}
