// The admin page: live plots for everyone who can reach the page; with the admin token,
// typed once per browser tab, the admin API's views of users, conversations, projections
// storage, and the reports queue. The tab shown follows the URL's #fragment (never anything else).
import { admin, adminToken, onTokenRefused } from './api.js';
import { clearError, showError } from './dom.js';
import { initConversation, lookUpConversation } from './conversation.js';
import { renderLive, startLive } from './live.js';
import { hideProjections, showProjections } from './projections.js';
import { initReports, showReports } from './reports.js';
import { initStorage, showStorage } from './storage.js';
import { initUser, lookUpUser } from './user.js';

const TABS = ['live', 'user', 'conversation', 'reports', 'projections', 'storage'];
const ADMIN_TABS = new Set(['user', 'conversation', 'reports', 'projections', 'storage']);
const $ = (id) => document.getElementById(id);

let signedIn = false;
let current = null;

function select(name) {
  if (!TABS.includes(name) || (ADMIN_TABS.has(name) && !signedIn)) name = 'live';
  if (name === current) return;
  current = name;
  for (const tab of TABS) {
    $('tab-' + tab).hidden = tab !== name;
    const link = document.querySelector('[data-tab="' + tab + '"]');
    if (tab === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (name === 'live') renderLive();
  if (name === 'projections') showProjections();
  else hideProjections();
  if (name === 'storage') showStorage();
  if (name === 'reports') showReports();
}

const fromHash = () => select(location.hash.slice(1) || 'live');

function go(name) {
  if (location.hash !== '#' + name) location.hash = name; // hashchange selects it
  else select(name);
}

function setSignedIn(on) {
  signedIn = on;
  $('auth').hidden = on;
  $('auth-hint').hidden = on;
  $('auth-ok').hidden = !on;
  for (const link of document.querySelectorAll('[data-admin]')) link.hidden = !on;
  if (on) {
    clearError($('auth-error'));
    current = null;
    fromHash();
  } else {
    $('user-result').replaceChildren();
    $('conversation-result').replaceChildren();
    $('reports-result').replaceChildren();
    $('projections-result').replaceChildren();
    $('storage-result').replaceChildren();
    select('live');
  }
}

/** A token is kept only once the server took it (one cheap admin call). */
async function useToken(token) {
  adminToken.set(token);
  try {
    await admin('/v1/admin/projections', { query: { limit: 1 } });
  } catch (err) {
    if (err.status === 401 || err.status === 403) adminToken.clear();
    throw err;
  }
}

function initAuth() {
  const form = $('auth');
  const input = $('token');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) {
      showError($('auth-error'), new Error('Type the admin token (CHAT_ADMIN_TOKEN) first.'));
      input.focus();
      return;
    }
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      await useToken(token);
      input.value = '';
      setSignedIn(true);
    } catch (err) {
      showError($('auth-error'), err);
      input.select();
    } finally {
      button.disabled = false;
    }
  });
  $('forget').addEventListener('click', () => {
    adminToken.clear();
    setSignedIn(false);
    input.focus();
  });
  // Any call refused for the token (it was changed on the server) signs the page out, saying why.
  onTokenRefused((err) => {
    adminToken.clear();
    if (signedIn) setSignedIn(false);
    showError($('auth-error'), err);
  });
}

initAuth();
initUser({ openConversation: (id) => { go('conversation'); lookUpConversation(id); } });
initConversation({ openUser: (id) => { go('user'); lookUpUser(id); } });
initStorage();
initReports({ openConversation: (id) => { go('conversation'); lookUpConversation(id); }, openUser: (id) => { go('user'); lookUpUser(id); } });
window.addEventListener('hashchange', fromHash);
// A token kept from earlier in this tab's session is used as is; a refusal signs out.
setSignedIn(Boolean(adminToken.get()));
startLive();
