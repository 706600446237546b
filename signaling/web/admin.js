// admin.js: the admin's page (issue 15): people's accounts (list, create with a first
// password shown once, disable and enable, reset) and the audit log ("Nhật ký") with
// filters, pages and a CSV export of the same filters. Everything goes through the API
// as the person signed in (the session cookie; writes add the session's CSRF token),
// so the server, not this page, decides who sees what.
import {
  Api, ApiError, TZ, UnitTree, addDays, applyStrings, currentLang, fmtNumber, fromInputs, h,
  languageSwitch, loadStrings, say, t, toDateInput,
} from './common.js';

await loadStrings();
languageSwitch(document.getElementById('lang'));

const $ = (id) => document.getElementById(id);
let api = null;
let tree = null;
let me = null;
const state = { users: [] };
const aud = { pages: [null], next: null, seq: 0, meetings: new Map() };

function debounce(f, ms) {
  let timer;
  return (...a) => { clearTimeout(timer); timer = setTimeout(() => f(...a), ms); };
}

// Matching without diacritics, as the unit search does: "nguyen thi" finds "Nguyễn Thị".
const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();

// "12:28:05 07/12/2026" in Vietnam time: the log needs the seconds, tables the short day.
const stamp = (d, seconds = false) => new Intl.DateTimeFormat(currentLang() === 'vi' ? 'vi-VN' : 'en-GB', {
  timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
  second: seconds ? '2-digit' : undefined, hour12: false,
}).format(d);

const roleName = (r) => { const s = t(`role.${r}`); return s === `role.${r}` ? r : s; };
const actionName = (a) => { const s = t(`act.${a}`); return s === `act.${a}` ? a : s; };

// A first password for the admin to hand over: 16 characters from 31 that cannot be
// misread (no 0/o, 1/l/i), about 79 bits, in groups of four for reading aloud. It must
// not contain the user name (signald refuses that).
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
function newPassword(user = '') {
  for (;;) {
    let out = '';
    for (const b of crypto.getRandomValues(new Uint8Array(48))) {
      if (b >= 248) continue; // 248 = 8 * 31: no bias toward the first letters
      out += ALPHABET[b % 31];
      if (out.length === 16) break;
    }
    if (out.length < 16) continue;
    const pw = out.match(/.{4}/g).join('-');
    if (!user || !pw.includes(user.toLowerCase())) return pw;
  }
}

// ---- who is here ----

// A token this tab signed in with (lt.token, as the other pages keep it), else the
// session cookie. A tab opened afresh has no CSRF token yet: GET /api/v1/session
// gives it again (a read that only this origin can make with the cookie).
async function start() {
  const saved = sessionStorage.getItem('lt.token');
  const a = new Api(saved);
  try {
    me = await a.get('/api/v1/session');
  } catch (err) {
    if (saved) sessionStorage.removeItem('lt.token');
    if (err instanceof ApiError && err.status === 401) showSignIn(saved ? t('auth.bad') : '');
    else say($('page-msg'), `${t('err.generic')}: ${err.message}`, 'error');
    return;
  }
  api = a;
  tree = new UnitTree(api);
  if (!api.token && me.csrf_token) sessionStorage.setItem('lt.csrf', me.csrf_token);
  $('signin').classList.add('hidden');
  $('signout').classList.remove('hidden');
  $('who').textContent = me.user ? `${me.full_name} (${me.user})` : `${t('aud.kind.token')} ${me.token} · ${roleName(me.role)}`;
  if (me.must_change) {
    refuse(t('adm.must_change'), '/', t('adm.must_change_link'));
    return;
  }
  try {
    await loadUsers();
  } catch (err) {
    // the server refuses the list to anyone but an admin: say so, show nothing
    if (err instanceof ApiError && err.status === 403) refuse(t('adm.refused'), me.page || '/', t('adm.refused_page'));
    else say($('page-msg'), `${t('err.generic')}: ${err.message}`, 'error');
    return;
  }
  $('app').classList.remove('hidden');
  resetCreateForm();
  showTab(location.hash === '#audit' ? 'audit' : 'accounts');
}

function showSignIn(msg) {
  $('signin').classList.remove('hidden');
  say($('signin-msg'), msg, msg ? 'error' : '');
}

function refuse(text, href, linkText) {
  $('app').classList.add('hidden');
  $('refused').classList.remove('hidden');
  $('refused-text').textContent = text;
  $('refused-link').href = href;
  $('refused-link').textContent = linkText;
}

$('token-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  sessionStorage.setItem('lt.token', $('token').value.trim());
  say($('signin-msg'), t('auth.checking'));
  await start();
});

$('signout').addEventListener('click', async () => {
  sessionStorage.removeItem('lt.token');
  if (api && !api.token) {
    await api.signOut();
    location.assign('/');
    return;
  }
  location.reload();
});

// ---- tabs ----

const TABS = [['tab-accounts', 'accounts'], ['tab-audit', 'audit']];

function showTab(name, focus = false) {
  for (const [tab, panel] of TABS) {
    const on = panel === name;
    $(tab).setAttribute('aria-selected', String(on));
    $(tab).tabIndex = on ? 0 : -1;
    $(panel).classList.toggle('hidden', !on);
    if (on && focus) $(tab).focus();
  }
  history.replaceState(null, '', `#${name}`);
  if (name === 'audit') loadAudit(); // the log grows with every action: read it again
}

$('tab-accounts').addEventListener('click', () => showTab('accounts'));
$('tab-audit').addEventListener('click', () => showTab('audit'));
document.querySelector('[role=tablist]').addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
  showTab($('tab-accounts').getAttribute('aria-selected') === 'true' ? 'audit' : 'accounts', true);
});

// ---- accounts ----

async function loadUsers() {
  const r = await api.get('/api/v1/users');
  state.users = r.users;
  renderUsers();
  $('a-actors').replaceChildren(...r.users.map((u) => h('option', { value: u.user }, u.full_name)));
  // the names of the units secretaries hold (one request per unit, kept)
  const codes = [...new Set(r.users.map((u) => u.scope).filter((c) => c && !tree.units.has(c)))];
  if (codes.length) {
    await Promise.all(codes.map((c) => tree.unit(c).catch(() => null)));
    renderUsers();
  }
}

function renderUsers() {
  const q = fold($('u-filter').value.trim());
  const rows = state.users.filter((u) => !q || fold(`${u.user} ${u.full_name}`).includes(q));
  $('users-count').textContent = rows.length
    ? t('adm.users_count', { shown: fmtNumber(rows.length), n: fmtNumber(state.users.length) }) : t('adm.users_none');
  const cols = ['adm.col_user', 'adm.col_name', 'adm.col_role', 'adm.col_scope', 'adm.col_state', 'adm.col_must',
    'adm.col_created', 'adm.col_actions'];
  $('users').replaceChildren(
    h('thead', {}, h('tr', {}, cols.map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, rows.map(userRow)));
}

$('u-filter').addEventListener('input', () => renderUsers());

function userRow(u) {
  const self = me.user === u.user;
  const unit = u.scope ? tree.units.get(u.scope) : null;
  const who = `${u.full_name} (${u.user})`;
  return h('tr', { 'data-user': u.user, class: u.disabled ? 'off' : null },
    h('td', {}, h('span', { class: 'mono' }, u.user), self ? ` ${t('adm.you')}` : ''),
    h('td', {}, u.full_name),
    h('td', {}, roleName(u.role)),
    h('td', { class: 'scope' }, u.scope ? `${unit ? `${unit.name} ` : ''}(${u.scope})` : h('span', { class: 'muted' }, t('adm.all_units'))),
    h('td', { class: u.disabled ? 'st-off' : 'st-on', 'data-state': u.disabled ? 'disabled' : 'enabled' },
      t(u.disabled ? 'adm.disabled' : 'adm.enabled')),
    h('td', { 'data-must': String(u.must_change) }, u.must_change ? t('adm.must_yes') : h('span', { class: 'muted' }, t('adm.must_no'))),
    h('td', { class: 'nowrap' }, u.created_at ? stamp(new Date(u.created_at)) : ''),
    h('td', {}, h('div', { class: 'acts' },
      h('button', { type: 'button', class: 'act-reset', 'aria-label': t('adm.reset_of', { name: who }), onclick: () => openReset(u) }, t('adm.reset')),
      // an admin does not disable their own account (signald refuses it too)
      self ? null : u.disabled
        ? h('button', { type: 'button', class: 'act-enable', 'aria-label': t('adm.enable_of', { name: who }), onclick: () => setDisabled(u, false) }, t('adm.enable'))
        : h('button', { type: 'button', class: 'danger act-disable', 'aria-label': t('adm.disable_of', { name: who }), onclick: () => setDisabled(u, true) }, t('adm.disable')))));
}

const rowOf = (name) => document.querySelector(`#users tr[data-user="${CSS.escape(name)}"]`);

// Disabling ends the person's sessions at once: asked first. Enabling is not.
async function setDisabled(u, disabled) {
  const who = `${u.full_name} (${u.user})`;
  if (disabled && !window.confirm(t('adm.confirm_disable', { name: who }))) return;
  try {
    await api.post(`/api/v1/users/${encodeURIComponent(u.user)}/${disabled ? 'disable' : 'enable'}`);
    await loadUsers();
    say($('users-msg'), t(disabled ? 'adm.disabled_ok' : 'adm.enabled_ok', { name: who }), 'ok');
    rowOf(u.user)?.querySelector(disabled ? '.act-enable' : '.act-disable')?.focus();
  } catch (err) {
    say($('users-msg'), `${t('err.generic')}: ${err.message}`, 'error');
  }
}

// The one-time password box: shown once, kept nowhere (not in the page's state, not
// in storage); hiding it removes it from the page.
function showSecret(box, lead, label, password) {
  box.replaceChildren(h('div', { class: 'secret' },
    h('p', { class: 'msg ok' }, lead),
    h('p', {}, label, ' ', h('code', { class: 'one-time' }, password), ' ',
      h('button', { type: 'button', onclick: () => navigator.clipboard?.writeText(password) }, t('adm.copy'))),
    h('p', { class: 'muted' }, t('adm.secret_note')),
    h('button', { type: 'button', class: 'hide-secret', onclick: () => { box.replaceChildren(); box.classList.add('hidden'); } }, t('adm.hide'))));
  box.classList.remove('hidden');
}

function markField(input, errEl, text, detail) {
  input.setAttribute('aria-invalid', 'true');
  // the rule in the reader's language, then signald's own words for the exact reason
  errEl.replaceChildren(text, detail ? h('span', { class: 'detail', lang: 'en' }, ` (${detail})`) : '');
}

function clearField(input, errEl) {
  input.removeAttribute('aria-invalid');
  errEl.replaceChildren();
}

function openReset(u) {
  const box = $('reset');
  const who = `${u.full_name} (${u.user})`;
  const pw = h('input', { type: 'text', id: 'r-password', class: 'mono', autocomplete: 'off', spellcheck: 'false',
    maxlength: '256', required: true, 'aria-describedby': 'r-password-err' });
  pw.value = newPassword(u.user);
  const err = h('p', { id: 'r-password-err', class: 'field-error', role: 'alert' });
  const msg = h('p', { id: 'r-msg', class: 'msg', role: 'status', 'aria-live': 'polite' });
  box.replaceChildren(h('form', { id: 'r-form', 'data-user': u.user, onsubmit: (e) => { e.preventDefault(); doReset(u, pw, err, msg); } },
    h('h3', { tabindex: '-1' }, t('adm.reset_heading', { name: who })),
    h('p', { class: 'muted' }, t('adm.reset_hint')),
    h('label', { for: 'r-password' }, t('adm.reset_password')),
    h('div', { class: 'row pw' }, pw,
      h('button', { type: 'button', onclick: () => { pw.value = newPassword(u.user); clearField(pw, err); } }, t('adm.generate'))),
    err,
    h('div', { class: 'row actions' },
      h('button', { type: 'submit', class: 'primary', id: 'r-submit' }, t('adm.reset_go')),
      h('button', { type: 'button', onclick: () => { box.replaceChildren(); box.classList.add('hidden'); } }, t('adm.cancel'))),
    msg));
  box.className = 'card inset';
  box.querySelector('h3').focus();
}

async function doReset(u, pw, err, msg) {
  clearField(pw, err);
  const password = pw.value;
  $('r-submit').disabled = true;
  try {
    await api.post(`/api/v1/users/${encodeURIComponent(u.user)}/password`, { password });
  } catch (e) {
    $('r-submit').disabled = false;
    if (e instanceof ApiError && e.body?.error?.field === 'password') {
      markField(pw, err, t('adm.rule.password'), e.message);
      pw.focus();
    } else say(msg, `${t('err.generic')}: ${e.message}`, 'error');
    return;
  }
  const who = `${u.full_name} (${u.user})`;
  $('reset').className = ''; // the password box takes the panel's place
  showSecret($('reset'), t('adm.reset_ok', { name: who }), t('adm.secret_reset', { user: u.user }), password);
  await loadUsers();
}

// ---- a new account ----

const FIELDS = ['user', 'full_name', 'role', 'scope', 'password'];
const fieldInput = (f) => $(f === 'scope' ? 'c-scope-q' : `c-${f}`);

function clearCreateErrors() {
  for (const f of FIELDS) clearField(fieldInput(f), $(`c-${f}-err`));
}

function resetCreateForm() {
  $('create').reset();
  $('c-scope').replaceChildren(h('option', { value: '' }, t('adm.f_scope_none')));
  $('c-password').value = newPassword();
  roleChanged();
}

// Only a secretary has a unit; admins and IT staff see the whole tree.
function roleChanged() {
  $('c-scope-box').classList.toggle('hidden', $('c-role').value !== 'secretary');
}
$('c-role').addEventListener('change', roleChanged);
$('c-generate').addEventListener('click', () => {
  $('c-password').value = newPassword($('c-user').value.trim());
  clearField($('c-password'), $('c-password-err'));
});

// Units by name (diacritics optional: the server folds them), as the secretary's page
// picks them; a typed code finds its unit too.
$('c-scope-q').addEventListener('input', debounce(async (e) => {
  const q = e.target.value.trim();
  if (q.length < 2) return;
  try {
    const [byName, byCode] = await Promise.all([
      api.get(`/api/v1/units/search?q=${encodeURIComponent(q)}&limit=15`).then((r) => r.units),
      /^[A-Za-z0-9_-]{1,32}$/.test(q) ? tree.unit(q).catch(() => null) : null,
    ]);
    const units = byCode ? [byCode, ...byName.filter((u) => u.code !== byCode.code)] : byName;
    $('c-scope').replaceChildren(...(units.length
      ? units.map((u) => h('option', { value: u.code }, `${u.name} (${u.code}) · ${t(`tier.${u.tier}`)}`))
      : [h('option', { value: '' }, t('adm.f_scope_none'))]));
  } catch (err) {
    say($('c-msg'), `${t('err.generic')}: ${err.message}`, 'error');
  }
}, 250));

$('create').addEventListener('submit', async (e) => {
  e.preventDefault();
  clearCreateErrors();
  $('c-done').classList.add('hidden');
  $('c-done').replaceChildren();
  const role = $('c-role').value;
  const body = { user: $('c-user').value.trim(), full_name: $('c-full_name').value.trim(), role, password: $('c-password').value };
  // no unit chosen: sent without one, and signald says what is missing
  if (role === 'secretary' && $('c-scope').value) body.scope = $('c-scope').value;
  $('c-submit').disabled = true;
  say($('c-msg'), t('adm.creating'));
  try {
    const u = await api.post('/api/v1/users', body);
    say($('c-msg'), '');
    resetCreateForm();
    showSecret($('c-done'), t('adm.created', { user: u.user }), t('adm.secret_first', { user: u.user }), body.password);
    await loadUsers();
  } catch (err) {
    const field = err instanceof ApiError ? (err.status === 409 ? 'user' : err.body?.error?.field) : null;
    if (FIELDS.includes(field)) {
      markField(fieldInput(field), $(`c-${field}-err`), err.status === 409 ? t('adm.exists') : t(`adm.rule.${field}`), err.message);
      say($('c-msg'), t('adm.fix'), 'error');
      fieldInput(field).focus();
    } else {
      say($('c-msg'), `${t('err.generic')}: ${err.message}`, 'error');
    }
  } finally {
    $('c-submit').disabled = false;
  }
});

// ---- the audit log ----

const rfc3339 = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

// The filters as query parameters. Dates and times are Vietnam time; a day alone as
// the end means up to the end of that day (until= is exclusive).
function auditFilters() {
  const q = new URLSearchParams();
  const m = $('a-meeting').value.trim();
  if (m) q.set('meeting', m);
  // user names are kept folded to lower case, token ids are lower-case hex
  const actor = $('a-actor').value.trim().toLowerCase();
  if (actor) q.set('actor', actor);
  const since = $('a-since').value ? fromInputs($('a-since').value, $('a-since-t').value || '00:00') : null;
  let until = null;
  if ($('a-until').value) {
    until = $('a-until-t').value ? fromInputs($('a-until').value, $('a-until-t').value)
      : addDays(fromInputs($('a-until').value, '00:00'), 1);
  }
  if (since) q.set('since', rfc3339(since));
  if (until) q.set('until', rfc3339(until));
  return { q, since, until };
}

async function loadAudit() {
  const { q, since, until } = auditFilters();
  if (since && until && since >= until) {
    say($('a-msg'), t('aud.bad_range'), 'error');
    return;
  }
  // the export carries the same filters (not the page): as much as one answer holds
  const csv = new URLSearchParams(q);
  csv.set('format', 'csv');
  csv.set('limit', '1000');
  $('a-csv').href = `/api/v1/audit?${csv}`;
  $('a-csv').download = `nhat-ky-${toDateInput(new Date())}.csv`;
  q.set('limit', $('a-limit').value);
  const before = aud.pages.at(-1);
  if (before) q.set('before', String(before));
  const seq = ++aud.seq;
  say($('a-msg'), t('adm.loading'));
  let r;
  try {
    r = await api.get(`/api/v1/audit?${q}`);
  } catch (err) {
    if (seq !== aud.seq) return;
    const field = err instanceof ApiError ? err.body?.error?.field : null;
    say($('a-msg'), `${t('err.generic')}: ${err.message}`, 'error');
    if (field === 'meeting') $('a-meeting').setAttribute('aria-invalid', 'true');
    return;
  }
  if (seq !== aud.seq) return;
  $('a-meeting').removeAttribute('aria-invalid');
  aud.next = r.next;
  renderAudit(r.entries);
  say($('a-msg'), r.entries.length ? t('aud.shown', { page: fmtNumber(aud.pages.length), n: fmtNumber(r.entries.length) }) : t('aud.empty'));
  $('a-newer').disabled = aud.pages.length <= 1;
  $('a-older').disabled = !r.next;
  titleMeetings(r.entries);
}

function renderAudit(entries) {
  const cols = ['aud.col_at', 'aud.col_actor', 'aud.col_action', 'aud.col_meeting', 'aud.col_site', 'aud.col_target',
    'aud.col_address', 'aud.col_detail'];
  $('a-table').replaceChildren(
    h('thead', {}, h('tr', {}, cols.map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, entries.map(auditRow)));
}

function auditRow(e) {
  const a = e.actor || {};
  const who = a.kind === 'account'
    ? [a.label || a.id, ' ', h('span', { class: 'tier mono' }, a.id)]
    : [t(`aud.kind.${a.kind}`), ' ', h('span', { class: 'tier mono' }, a.id), a.label ? ` · ${roleName(a.label)}` : ''];
  return h('tr', { 'data-id': e.id, 'data-action': e.action, 'data-meeting': e.meeting_id ?? null, 'data-actor': a.id },
    h('td', { class: 'nowrap' }, stamp(new Date(e.at), true)),
    h('td', {}, a.id && a.id !== '-'
      ? h('button', { type: 'button', class: 'linkish', title: t('aud.by_actor', { name: a.id }), onclick: () => filterBy('a-actor', a.id) }, ...who)
      : who),
    h('td', {}, actionName(e.action), h('br'), h('span', { class: 'tier mono' }, e.action)),
    h('td', {}, e.meeting_id
      ? [h('button', { type: 'button', class: 'linkish', title: t('aud.by_meeting', { id: e.meeting_id }), onclick: () => filterBy('a-meeting', e.meeting_id) }, `#${e.meeting_id}`),
        ' ', h('span', { class: 'mtitle', 'data-meeting-title': e.meeting_id }, aud.meetings.get(e.meeting_id) || '')]
      : ''),
    h('td', {}, e.site_id ? `#${e.site_id}` : ''),
    h('td', { class: 'mono small' }, e.target || ''),
    h('td', { class: 'mono small' }, e.address || ''),
    h('td', {}, e.detail || ''));
}

// Meeting titles beside their numbers, read once each (a cancelled or deleted meeting
// keeps its number only).
async function titleMeetings(entries) {
  const ids = [...new Set(entries.map((e) => e.meeting_id).filter((id) => id && !aud.meetings.has(id)))].slice(0, 30);
  await Promise.all(ids.map(async (id) => {
    try {
      aud.meetings.set(id, (await api.get(`/api/v1/meetings/${id}`)).title);
    } catch {
      aud.meetings.set(id, '');
    }
  }));
  for (const el of document.querySelectorAll('#a-table [data-meeting-title]')) {
    el.textContent = aud.meetings.get(Number(el.dataset.meetingTitle)) || '';
  }
}

function filterBy(input, value) {
  $(input).value = String(value);
  aud.pages = [null];
  loadAudit();
}

$('a-filter').addEventListener('submit', (e) => {
  e.preventDefault();
  aud.pages = [null];
  loadAudit();
});
$('a-clear').addEventListener('click', () => {
  $('a-filter').reset();
  aud.pages = [null];
  loadAudit();
});
$('a-older').addEventListener('click', () => {
  if (!aud.next) return;
  aud.pages.push(aud.next);
  loadAudit();
});
$('a-newer').addEventListener('click', () => {
  if (aud.pages.length > 1) aud.pages.pop();
  loadAudit();
});
// With the session cookie the link downloads by itself; a token rides in a header,
// which a link cannot carry.
$('a-csv').addEventListener('click', (e) => {
  if (!api?.token) return;
  e.preventDefault();
  api.download($('a-csv').getAttribute('href'), $('a-csv').download, 'text/csv')
    .catch((err) => say($('a-msg'), `${t('err.generic')}: ${err.message}`, 'error'));
});

applyStrings(document);
start();
