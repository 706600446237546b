// secretary.js: the meeting secretary's page: sign in, week/day calendar, booking with
// conflicts site by site, .ics, join links, whether a meeting is recorded ("Ghi hình"),
// and on the day the live roll call, floor control, the presenter right (who may show
// a screen), the recording's controls and the attendance CSV; afterwards the meeting's
// recordings ("Bản ghi"), watched in the page or downloaded.
import {
  Api, ApiError, LiveSocket, UnitTree, addDays, applyStrings, fmtDateTime, fmtDay,
  fmtNumber, fmtShortDay, fmtTime, fromInputs, h, languageSwitch, loadStrings, say, t,
  toDateInput, toTimeInput, vnDayStart, vnParts, vnWeekStart,
} from './common.js';

await loadStrings();
languageSwitch(document.getElementById('lang'));

const $ = (id) => document.getElementById(id);
let api = null;
let tree = null;
let live = null;
const state = { view: 'week', anchor: new Date(), meetings: [], chosen: [], detail: null };

// ---- sign in ----

async function signIn(token) {
  const a = new Api(token);
  const from = vnWeekStart(new Date());
  await a.get(`/api/v1/meetings?from=${from.toISOString()}&to=${addDays(from, 7).toISOString()}`);
  api = a;
  tree = new UnitTree(api);
  if (token) sessionStorage.setItem('lt.token', token);
  $('signin').classList.add('hidden');
  $('app').classList.remove('hidden');
  $('signout').classList.remove('hidden');
  live = new LiveSocket(api, { onMessage: onEvent });
  renderGroups();
  resetForm();
  await loadCalendar();
}

$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  say($('signin-msg'), t('auth.checking'));
  try {
    await signIn($('token').value.trim());
  } catch (err) {
    say($('signin-msg'), err instanceof ApiError && err.status === 401 ? t('auth.bad') : `${t('err.generic')}: ${err.message}`, 'error');
  }
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

// ---- calendar ----

function range() {
  if (state.view === 'day') {
    const from = vnDayStart(state.anchor);
    return { from, to: addDays(from, 1), days: 1 };
  }
  const from = vnWeekStart(state.anchor);
  return { from, to: addDays(from, 7), days: 7 };
}

async function loadCalendar() {
  const { from, to } = range();
  try {
    const r = await api.get(`/api/v1/meetings?from=${from.toISOString()}&to=${to.toISOString()}`);
    state.meetings = r.meetings;
    say($('cal-msg'), r.meetings.length ? '' : t('cal.empty'));
  } catch (err) {
    say($('cal-msg'), `${t('err.generic')}: ${err.message}`, 'error');
  }
  renderCalendar();
}

function renderCalendar() {
  const { from, days } = range();
  const cal = $('calendar');
  cal.className = state.view === 'day' ? 'week day' : 'week';
  cal.replaceChildren();
  $('cal-range').textContent = days === 1 ? fmtDay(from) : `${fmtShortDay(from)} – ${fmtShortDay(addDays(from, 6))}`;
  const today = vnParts(new Date());
  for (let i = 0; i < days; i++) {
    const day = addDays(from, i);
    const p = vnParts(day);
    const items = [];
    for (const m of state.meetings) {
      for (const o of m.occurrences || []) {
        const s = new Date(o.starts_at);
        const sp = vnParts(s);
        if (sp.y === p.y && sp.m === p.m && sp.d === p.d) items.push({ m, o, s });
      }
    }
    items.sort((a, b) => a.s - b.s);
    const isToday = p.y === today.y && p.m === today.m && p.d === today.d;
    cal.append(h('div', { class: `daycol${isToday ? ' today' : ''}`, role: 'group', 'aria-label': fmtDay(day) },
      h('h3', {}, fmtShortDay(day)),
      items.map(({ m, o, s }) => h('button', {
        type: 'button', class: 'mtg', 'data-meeting': m.id,
        onclick: () => openDetail(m.id, o.id),
      }, h('span', { class: 'when' }, `${fmtTime(s)}–${fmtTime(new Date(o.ends_at))}`), m.title,
      m.cancelled ? ` (${t('cal.cancelled')})` : '', recMark(m)))));
  }
}

// The small "● Ghi hình" of a meeting that records (calendar and detail).
function recMark(m) {
  return m.record ? h('span', { class: 'rec-mark', 'data-record': '1', title: t('record.marked') }, ` ● ${t('record.mark')}`) : '';
}

function setView(v) {
  state.view = v;
  $('cal-week').setAttribute('aria-pressed', String(v === 'week'));
  $('cal-day').setAttribute('aria-pressed', String(v === 'day'));
  loadCalendar();
}
$('cal-week').addEventListener('click', () => setView('week'));
$('cal-day').addEventListener('click', () => setView('day'));
$('cal-prev').addEventListener('click', () => { state.anchor = addDays(state.anchor, state.view === 'day' ? -1 : -7); loadCalendar(); });
$('cal-next').addEventListener('click', () => { state.anchor = addDays(state.anchor, state.view === 'day' ? 1 : 7); loadCalendar(); });
$('cal-today').addEventListener('click', () => { state.anchor = new Date(); loadCalendar(); });

// ---- unit search (diacritics optional: the server folds them) ----

function debounce(f, ms) {
  let timer;
  return (...a) => { clearTimeout(timer); timer = setTimeout(() => f(...a), ms); };
}

async function searchUnits(q) {
  if (q.trim().length < 2) return [];
  const r = await api.get(`/api/v1/units/search?q=${encodeURIComponent(q.trim())}&limit=15`);
  return r.units;
}

const tierName = (tier) => t(`tier.${tier}`);
const lowerTiers = (tier) => tree.tiers.slice(tree.tiers.indexOf(tier) + 1);

$('b-chair-q').addEventListener('input', debounce(async (e) => {
  try {
    const units = await searchUnits(e.target.value);
    const sel = $('b-chair');
    sel.replaceChildren(...units.map((u) => h('option', { value: u.code }, `${u.name} (${u.code})`)));
  } catch (err) { say($('b-msg'), err.message, 'error'); }
}, 250));

$('b-unit-q').addEventListener('input', debounce(async (e) => {
  try {
    const units = await searchUnits(e.target.value);
    $('b-results').replaceChildren(...units.map((u) => {
      const down = h('select', { 'aria-label': t('new.down_to_of', { name: u.name }) },
        h('option', { value: '' }, t('new.only_unit')),
        lowerTiers(u.tier).map((tier) => h('option', { value: tier }, t('new.down_to', { tier: tierName(tier) }))));
      if (u.children && lowerTiers(u.tier).length) down.value = lowerTiers(u.tier).at(-1);
      return h('li', {},
        h('span', { class: 'name' }, u.name, ' ', h('span', { class: 'tier' }, `${tierName(u.tier)} · ${u.code}`)),
        down,
        h('button', { type: 'button', onclick: () => addParticipant(u, down.value || null) }, t('new.add')));
    }));
  } catch (err) { say($('b-msg'), err.message, 'error'); }
}, 250));

function addParticipant(u, downTo) {
  state.chosen = state.chosen.filter((p) => p.unit !== u.code);
  state.chosen.push({ unit: u.code, name: u.name, down_to: downTo });
  renderChosen();
}

async function renderChosen() {
  checkSoon();
  $('b-chosen').replaceChildren(...state.chosen.map((p) => h('li', {},
    h('span', { class: 'name' }, p.name || p.unit, p.down_to ? ` — ${t('new.down_to', { tier: tierName(p.down_to) })}` : ''),
    h('button', { type: 'button', class: 'danger', 'aria-label': t('new.remove_of', { name: p.name || p.unit }),
      onclick: () => { state.chosen = state.chosen.filter((x) => x !== p); renderChosen(); } }, t('new.remove')))));
  // the site count: one site per unit of every chosen subtree
  const el = $('b-count-sites');
  if (!state.chosen.length) { el.textContent = t('new.no_participants'); return; }
  el.textContent = t('new.counting');
  try {
    const all = new Set();
    for (const p of state.chosen) (await tree.subtree(p.unit, p.down_to)).forEach((c) => all.add(c));
    el.textContent = t('new.site_count', { n: fmtNumber(all.size) });
    el.dataset.count = String(all.size);
  } catch (err) { el.textContent = err.message; }
}

// ---- saved groups (this browser) ----

function groups() {
  try { return JSON.parse(localStorage.getItem('lt.groups') || '{}'); } catch { return {}; }
}

function renderGroups() {
  const g = groups();
  $('b-groups').replaceChildren(h('option', { value: '' }, t('groups.saved')),
    ...Object.keys(g).sort().map((name) => h('option', { value: name }, name)));
}

$('b-group-save').addEventListener('click', () => {
  if (!state.chosen.length) return;
  const name = prompt(t('groups.name'));
  if (!name) return;
  const g = groups();
  g[name] = state.chosen;
  localStorage.setItem('lt.groups', JSON.stringify(g));
  renderGroups();
});
$('b-group-load').addEventListener('click', () => {
  const g = groups()[$('b-groups').value];
  if (g) { state.chosen = g; renderChosen(); }
});

// ---- booking ----

function resetForm() {
  const start = new Date(Math.ceil((Date.now() + 3600000) / 1800000) * 1800000);
  $('b-date').value = toDateInput(start);
  $('b-start').value = toTimeInput(start);
  $('b-end').value = toTimeInput(new Date(start.getTime() + 3600000));
}

function formBody() {
  const starts = fromInputs($('b-date').value, $('b-start').value);
  let ends = fromInputs($('b-date').value, $('b-end').value);
  if (ends <= starts) ends = addDays(ends, 1);
  const body = {
    title: $('b-title').value.trim(),
    agenda: $('b-agenda').value.trim() || null,
    chair: $('b-chair').value,
    starts_at: starts.toISOString().replace('.000', ''),
    ends_at: ends.toISOString().replace('.000', ''),
    participants: state.chosen.map((p) => (p.down_to ? { unit: p.unit, down_to: p.down_to } : { unit: p.unit })),
    record: $('b-record').checked,
  };
  if ($('b-freq').value) body.recurrence = `FREQ=${$('b-freq').value};COUNT=${Number($('b-count').value) || 1}`;
  return body;
}

let idemKey = crypto.randomUUID();
$('book').addEventListener('input', () => { idemKey = crypto.randomUUID(); });

// Conflicts before saving: as the form changes, signald checks the booking
// (POST /meetings/check: the same checks, nothing stored), so the secretary sees
// the clashing sites before pressing Book. Answers to older forms are dropped.
let checkSeq = 0;
async function checkBooking() {
  const seq = ++checkSeq;
  const el = $('b-check');
  if (!$('b-chair').value || !state.chosen.length || !$('b-date').value) { say(el, ''); return; }
  const body = formBody();
  if (!body.title) body.title = '-';
  delete body.record; // recording changes no conflict
  try {
    const r = await api.post('/api/v1/meetings/check', body);
    if (seq !== checkSeq) return;
    $('conflicts').classList.add('hidden');
    say(el, t('check.free', { sites: fmtNumber(r.site_count), n: fmtNumber(r.occurrence_count) }), 'ok');
  } catch (err) {
    if (seq !== checkSeq) return;
    if (err instanceof ApiError && err.status === 409 && err.body?.error?.conflicts) {
      say(el, t('check.clash', { n: fmtNumber(err.body.error.conflicts.length) }), 'error');
      showConflicts(err.body.error.conflicts, body, false);
    } else say(el, err.message, 'error');
  }
}
const checkSoon = debounce(checkBooking, 400);
$('book').addEventListener('input', checkSoon);
$('book').addEventListener('change', checkSoon);

$('book').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!$('b-chair').value) { say($('b-msg'), t('new.need_chair'), 'error'); $('b-chair-q').focus(); return; }
  if (!state.chosen.length) { say($('b-msg'), t('new.no_participants'), 'error'); $('b-unit-q').focus(); return; }
  const body = formBody();
  $('b-submit').disabled = true;
  say($('b-msg'), t('new.saving'));
  try {
    const r = await api.post('/api/v1/meetings', body, { 'Idempotency-Key': idemKey });
    idemKey = crypto.randomUUID();
    checkSeq++; // the form now describes the meeting just booked: no check of it
    say($('b-check'), '');
    $('conflicts').classList.add('hidden');
    say($('b-msg'), t('new.booked', { n: fmtNumber(r.site_count) }), 'ok');
    state.anchor = new Date(body.starts_at);
    await loadCalendar();
    openDetail(r.id, r.occurrences?.[0]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && err.body?.error?.conflicts) {
      say($('b-check'), ''); // the save's own message says it now
      showConflicts(err.body.error.conflicts, body);
    }
    else say($('b-msg'), `${t('err.generic')}: ${err.message}`, 'error');
  } finally {
    $('b-submit').disabled = false;
  }
});

// The 409 body lists every clashing site; show them site by site, with the two ways out.
// After a save attempt the panel takes the focus; from the live check it does not, so
// typing goes on.
function showConflicts(conflicts, body, saving = true) {
  if (saving) say($('b-msg'), t('conf.summary', { n: fmtNumber(conflicts.length) }), 'error');
  const box = $('conflicts');
  const units = [...new Set(conflicts.map((c) => c.unit))];
  box.replaceChildren(
    h('h2', {}, t('conf.heading', { n: fmtNumber(conflicts.length) })),
    h('div', { class: 'scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, t('conf.site')), h('th', {}, t('conf.meeting')), h('th', {}, t('conf.when')))),
      h('tbody', {}, conflicts.map((c) => h('tr', {},
        h('td', {}, tree.units.get(c.unit)?.name || c.unit, h('span', { class: 'tier' }, ` · ${c.unit} · #${c.site_id}`)),
        h('td', {}, c.meeting_title),
        h('td', {}, `${fmtTime(new Date(c.occurrence_starts_at))}–${fmtTime(new Date(c.occurrence_ends_at))} ${fmtShortDay(new Date(c.occurrence_starts_at))}`)))))),
    h('div', { class: 'row' },
      h('button', { type: 'button', id: 'conf-drop', onclick: () => dropSites(units) }, t('conf.drop', { n: fmtNumber(units.length) })),
      h('button', { type: 'button', id: 'conf-next', onclick: () => nextSlot(conflicts, body) }, t('conf.next'))));
  box.classList.remove('hidden');
  box.querySelector('h2').setAttribute('tabindex', '-1');
  if (saving) box.querySelector('h2').focus();
}

// Replaces each subtree participant by its units one by one, without the clashing ones.
async function dropSites(units) {
  const drop = new Set(units);
  const out = [];
  for (const p of state.chosen) {
    for (const code of await tree.subtree(p.unit, p.down_to)) {
      if (!drop.has(code)) out.push({ unit: code, name: tree.units.get(code)?.name || code, down_to: null });
    }
  }
  state.chosen = out;
  await renderChosen();
  $('conflicts').classList.add('hidden');
  say($('b-msg'), t('conf.dropped', { n: fmtNumber(drop.size) }), 'ok');
}

// Moves the meeting to start when the last clashing occurrence ends (same length).
function nextSlot(conflicts, body) {
  const len = new Date(body.ends_at) - new Date(body.starts_at);
  const start = new Date(Math.max(...conflicts.map((c) => new Date(c.occurrence_ends_at).getTime())));
  $('b-date').value = toDateInput(start);
  $('b-start').value = toTimeInput(start);
  $('b-end').value = toTimeInput(new Date(start.getTime() + len));
  $('conflicts').classList.add('hidden');
  idemKey = crypto.randomUUID();
  say($('b-msg'), t('conf.moved', { when: fmtDateTime(start) }), 'ok');
  checkSoon();
}

// ---- one meeting: details, links, roll call, floor ----

async function openDetail(meetingId, occurrenceId) {
  const m = await api.get(`/api/v1/meetings/${meetingId}`);
  const occ = (m.occurrences || []).find((o) => o.id === occurrenceId) || (m.occurrences || [])[0];
  if (state.detail && state.detail.meeting.id !== m.id) live.unsubscribe(state.detail.meeting.id);
  state.detail = { meeting: m, occ, hands: new Set(), muted: new Set(), floor: null, presenter: null, content: null, recording: null };
  live.subscribe(m.id);
  await loadControlState(state.detail);
  const d = $('detail');
  d.classList.remove('hidden');
  d.replaceChildren(
    h('h2', { id: 'd-title' }, m.title),
    h('p', {}, occ ? `${fmtDateTime(new Date(occ.starts_at))} – ${fmtTime(new Date(occ.ends_at))}` : '',
      ' · ', t('d.sites', { n: fmtNumber(m.site_count ?? 0) }),
      occ ? [' · ', h('span', { id: 'd-state' }, t(`occ.${occ.state}`))] : '',
      h('span', { id: 'd-record-mark' }, recMark(m))),
    m.agenda ? h('p', { class: 'muted' }, m.agenda) : '',
    h('div', { class: 'row' },
      h('button', { type: 'button', onclick: () => api.download(`/api/v1/meetings/${m.id}.ics`, `meeting-${m.id}.ics`) }, t('d.ics')),
      h('button', { type: 'button', onclick: () => api.download(`/api/v1/meetings/${m.id}/attendance${occ ? `?occurrence=${occ.id}` : ''}`, `attendance-${m.id}.csv`, 'text/csv') }, t('d.csv')),
      h('button', { type: 'button', id: 'd-links-btn', onclick: () => joinLinks(m) }, t('d.links')),
      h('a', { href: `/it#meeting=${m.id}` }, t('d.board'))),
    h('label', { class: 'check', for: 'd-record' },
      h('input', { type: 'checkbox', id: 'd-record', checked: !!m.record, onchange: (e) => setRecord(m, e.target.checked) }),
      ' ', t('new.record')),
    h('div', { id: 'd-links' }),
    h('h3', {}, t('rc.heading')),
    h('div', { id: 'd-floor', class: 'row' },
      h('button', { type: 'button', id: 'f-chair', onclick: () => floor(null) }, t('floor.chair')),
      h('button', { type: 'button', id: 'f-muteall', onclick: () => muteAll(true) }, t('floor.mute_all')),
      h('button', { type: 'button', onclick: () => muteAll(false) }, t('floor.unmute_all'))),
    occ ? h('div', { id: 'd-rec', class: 'row rec' }) : '',
    h('p', { id: 'd-hands', class: 'muted' }),
    h('p', { id: 'd-msg', class: 'msg', role: 'status', 'aria-live': 'polite' }),
    h('div', { id: 'd-rollcall' }),
    h('section', { id: 'd-recs-box', class: 'hidden', 'aria-labelledby': 'd-recs-h' },
      h('h3', { id: 'd-recs-h' }, t('record.heading')),
      h('div', { id: 'd-recs' }),
      h('div', { id: 'd-player' })));
  renderRec();
  loadRecordings();
  await loadRollCall();
  d.scrollIntoView({ block: 'nearest' });
}

// "Ghi hình" of a booked meeting: the booking form only books, so the detail changes
// it on the meeting (PATCH), all its sessions to come.
async function setRecord(m, on) {
  try {
    const r = await api.call('PATCH', `/api/v1/meetings/${m.id}`, { body: { record: on } });
    m.record = r?.record ?? on;
    say($('d-msg'), t(m.record ? 'record.on' : 'record.off'), 'ok');
    loadCalendar();
  } catch (err) {
    say($('d-msg'), err.status === 403 ? t('record.edit_denied') : `${t('err.generic')}: ${err.message}`, 'error');
  }
  if (state.detail?.meeting !== m) return;
  $('d-record').checked = !!m.record;
  $('d-record-mark').replaceChildren(recMark(m));
}

// Floor and mutes live in signald while the occurrence runs: after a reload (or on
// another secretary's screen) they come from GET /occurrences/{id}/media, and live
// events keep them current from then on.
async function loadControlState(det) {
  if (!det.occ) return;
  try {
    const media = await api.get(`/api/v1/occurrences/${det.occ.id}/media`);
    if (!media.leg) return;
    det.floor = media.leg.floor_site_id > 0 && media.leg.floor_site_id !== media.leg.chair_site_id ? media.leg.floor_site_id : null;
    det.chair = media.leg.chair_site_id;
    det.presenter = media.leg.presenter_site_id ?? null;
    det.content = media.leg.content_site_id ?? null;
    det.recording = media.leg.recording ?? null;
    for (const id of media.leg.muted || []) det.muted.add(id);
  } catch { /* not running or not readable: nothing to restore */ }
}

async function loadRollCall() {
  const det = state.detail;
  if (!det || !det.occ) return;
  let r;
  try {
    r = await api.get(`/api/v1/meetings/${det.meeting.id}/attendance?occurrence=${det.occ.id}`);
  } catch (err) {
    say($('d-msg'), `${t('err.generic')}: ${err.message}`, 'error');
    return;
  }
  det.sites = r.sites;
  // tiers from the unit tree (the attendance rows carry unit codes)
  await Promise.all([...new Set(r.sites.map((s) => s.unit))].filter((c) => !tree.units.has(c)).slice(0, 50).map((c) => tree.unit(c).catch(() => null)));
  const byTier = new Map();
  for (const s of r.sites) {
    const tier = tree.units.get(s.unit)?.tier || 'other';
    if (!byTier.has(tier)) byTier.set(tier, []);
    byTier.get(tier).push(s);
  }
  const order = [...tree.tiers, 'other'];
  const c = r.counts;
  $('d-rollcall').replaceChildren(
    h('p', { id: 'rc-counts' }, h('span', { class: 'st-present' }, t('rc.present_n', { n: fmtNumber(c.present) })), ' · ',
      h('span', { class: 'st-late' }, t('rc.late_n', { n: fmtNumber(c.late) })), ' · ',
      h('span', { class: 'st-absent' }, t('rc.absent_n', { n: fmtNumber(c.absent) }))),
    ...order.filter((tier) => byTier.has(tier)).map((tier) => {
      const list = byTier.get(tier);
      const n = (st) => list.filter((s) => s.status === st).length;
      const det2 = state.detail;
      det2.open ||= {};
      if (!(tier in det2.open)) det2.open[tier] = list.length <= 40;
      return h('details', { open: det2.open[tier], 'data-tier': tier, ontoggle: (e) => { det2.open[tier] = e.target.open; } },
        h('summary', {}, `${tier === 'other' ? t('tier.other') : tierName(tier)}: `,
          t('rc.tier_counts', { p: n('present'), l: n('late'), a: n('absent'), n: list.length })),
        h('div', { class: 'scroll' }, h('table', {}, h('tbody', {}, list.map((s) => rollRow(s))))));
    }));
  renderHands();
}

function rollRow(s) {
  const det = state.detail;
  const muted = det.muted.has(s.site_id);
  // the presenter right: one site at a time; taking it back hands it to the chair
  const holds = det.presenter === s.site_id;
  const presenting = det.content === s.site_id;
  return h('tr', { 'data-site': s.site_id, 'data-presenter': holds ? '1' : null, 'data-presenting': presenting ? '1' : null },
    h('td', {}, s.site_name, det.floor === s.site_id ? ` 🎤 ${t('floor.has')}` : '',
      holds && !presenting ? h('span', { class: 'presenter' }, ` 📽 ${t('content.holder')}`) : '',
      presenting ? h('span', { class: 'presenting' }, ` 📽 ${t('content.presenting')}`) : ''),
    h('td', { class: `st-${s.status}` }, t(`rc.${s.status}`),
      s.online && s.status === 'absent' ? h('span', { class: 'online' }, ` · ${t('rc.online')}`) : ''),
    h('td', {}, s.first_join ? fmtTime(new Date(s.first_join)) : ''),
    h('td', { class: 'row' },
      h('button', { type: 'button', onclick: () => floor(s.site_id), 'aria-label': `${t('floor.give')}: ${s.site_name}` }, t('floor.give')),
      h('button', { type: 'button', onclick: () => mute(s.site_id, !muted), 'aria-label': `${t(muted ? 'floor.unmute' : 'floor.mute')}: ${s.site_name}` },
        t(muted ? 'floor.unmute' : 'floor.mute')),
      holds && s.site_id !== det.chair
        ? h('button', { type: 'button', class: 'content-take', onclick: () => takeContent(), 'aria-label': `${t('content.take')}: ${s.site_name}` }, t('content.take'))
        : holds ? ''
          : h('button', { type: 'button', class: 'content-give', onclick: () => giveContent(s.site_id), 'aria-label': `${t('content.give')}: ${s.site_name}` }, t('content.give'))));
}

// Raised hands, each with the presenter right a click away: a hall asks, the
// secretary lets it show its screen.
function renderHands() {
  const det = state.detail;
  const ids = [...det.hands];
  if (!ids.length) { $('d-hands').replaceChildren(t('floor.no_hands')); return; }
  const name = (id) => det.sites?.find((s) => s.site_id === id)?.site_name || `#${id}`;
  $('d-hands').replaceChildren(`✋ ${t('floor.hands')}: `, ...ids.flatMap((id, i) => [
    i ? ', ' : '', name(id),
    det.presenter === id ? '' : [' ', h('button', { type: 'button', class: 'content-give', 'data-site': id,
      onclick: () => giveContent(id), 'aria-label': t('content.hand_give', { name: name(id) }) }, t('content.give'))]]));
}

// A control answered 404 is not in this signald yet: hide it; 409: the leg is not open.
async function control(path, body, method = 'POST') {
  try {
    await api.call(method, path, { body });
    say($('d-msg'), t('floor.sent'), 'ok');
    return true;
  } catch (err) {
    if (err.status === 404 || err.status === 405) { $('d-floor').classList.add('hidden'); say($('d-msg'), t('floor.unavailable'), 'error'); }
    else if (err.status === 409) say($('d-msg'), t('floor.not_open'), 'error');
    else say($('d-msg'), `${t('err.generic')}: ${err.message}`, 'error');
    return false;
  }
}

const occPath = (what) => `/api/v1/occurrences/${state.detail.occ.id}/${what}`;
const floor = (siteId) => control(occPath('floor'), { site_id: siteId });
const mute = (siteId, muted) => control(occPath('mute'), { site_id: siteId, muted });
const muteAll = (muted) => control(occPath('mute'), { all_but_chair: true, muted });
const giveContent = (siteId) => control(occPath('content'), { site: siteId });
const takeContent = () => control(occPath('content'), undefined, 'DELETE');

// The occurrence's recording: its state (red while recording) and the buttons that
// apply to it. It comes from the media's leg.recording and then from `recording`
// events; only the chair's secretary and admins may change it (403).
function renderRec() {
  const box = $('d-rec');
  const det = state.detail;
  if (!box || !det) return;
  const st = ['recording', 'paused'].includes(det.recording?.state) ? det.recording.state : 'none';
  const btn = (cls, action) => h('button', { type: 'button', class: cls, 'data-action': action, onclick: () => recAction(action) }, t(`record.${action}`));
  box.dataset.state = st;
  box.replaceChildren(
    h('span', { class: `rec-state rec-${st}`, 'data-state': st, 'data-recording': det.recording?.id ?? null }, t(`record.state_${st}`)),
    st === 'recording' ? btn('rec-pause', 'pause') : '',
    st === 'paused' ? btn('rec-resume', 'resume') : '',
    st === 'none' ? btn('rec-start', 'start') : btn('rec-stop danger', 'stop'));
}

async function recAction(action) {
  const det = state.detail;
  try {
    const r = await api.post(occPath('recording'), { action });
    if (state.detail !== det) return;
    if (r) det.recording = { id: r.id, state: r.state };
    say($('d-msg'), t(`record.done_${action}`), 'ok');
    renderRec();
    refreshRecordings();
  } catch (err) {
    if (err.status === 403) say($('d-msg'), t('record.denied'), 'error');
    else if (err.status === 409) say($('d-msg'), t('record.not_now'), 'error');
    else if (err.status === 404 || err.status === 405) { $('d-rec')?.classList.add('hidden'); say($('d-msg'), t('record.unavailable'), 'error'); }
    else say($('d-msg'), `${t('err.generic')}: ${err.message}`, 'error');
  }
}

// ---- the meeting's recordings ("Bản ghi") ----

// 1:02:03 of a length in seconds.
function hms(sec) {
  const n = Math.max(0, Math.round(sec || 0));
  const two = (x) => String(x).padStart(2, '0');
  return `${Math.floor(n / 3600)}:${two(Math.floor(n / 60) % 60)}:${two(n % 60)}`;
}

// 12,3 MB / 1,25 GB in the page's number format.
function fmtSize(bytes) {
  const b = bytes || 0;
  if (b >= 1024 ** 3) return `${fmtNumber(b / 1024 ** 3, 2)} GB`;
  if (b >= 1024 ** 2) return `${fmtNumber(b / 1024 ** 2, 1)} MB`;
  return `${fmtNumber(b / 1024, 0)} KB`;
}

// t(prefix + value), or the value itself when the catalogue has no such word yet.
function words(prefix, value) {
  const s = t(`${prefix}${value}`);
  return s === `${prefix}${value}` ? String(value) : s;
}

// GET /recordings?meeting_id=: newest first. 404 (a signald that does not record) and
// 403 (not this person's to see) leave the section hidden without a word.
async function loadRecordings() {
  const det = state.detail;
  if (!det) return;
  let r;
  try {
    r = await api.get(`/api/v1/recordings?meeting_id=${det.meeting.id}`);
  } catch (err) {
    if (state.detail !== det) return;
    if (err.status === 404 || err.status === 403) { $('d-recs-box').classList.add('hidden'); return; }
    $('d-recs-box').classList.remove('hidden');
    say($('d-recs'), `${t('err.generic')}: ${err.message}`, 'error');
    return;
  }
  if (state.detail !== det) return;
  det.recordings = r?.recordings || [];
  det.recOpen ||= new Set();
  $('d-recs-box').classList.remove('hidden');
  const box = $('d-recs');
  box.className = '';
  if (!det.recordings.length) { box.replaceChildren(h('p', { class: 'muted' }, t('record.none'))); return; }
  const cols = ['start', 'end', 'length', 'size', 'state', 'by', 'pauses'];
  box.replaceChildren(h('div', { class: 'scroll' }, h('table', { class: 'recs' },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', {}, t(`record.col_${c}`))), h('th', {}))),
    h('tbody', {}, det.recordings.flatMap((rec) => recRows(rec, cols.length + 1))))));
}
const refreshRecordings = debounce(() => loadRecordings(), 1000);

function recRows(rec, span) {
  const det = state.detail;
  const files = rec.files || [];
  const playable = rec.state !== 'expired' && files.some((f) => f.track === 'program' || f.track === 'content');
  const when = fmtDateTime(new Date(rec.started_at));
  const pauses = rec.pauses || [];
  return [
    h('tr', { class: 'rec-row', 'data-recording': rec.id, 'data-state': rec.state },
      h('td', { class: 'nowrap' }, when),
      h('td', { class: 'nowrap' }, rec.ended_at ? fmtTime(new Date(rec.ended_at)) : '—'),
      h('td', { class: 'rec-length' }, hms(rec.duration_s)),
      h('td', { class: 'rec-size nowrap' }, fmtSize(rec.bytes)),
      h('td', { class: `rec-st rec-st-${rec.state}` }, words('record.st_', rec.state),
        rec.stop_reason ? h('span', { class: 'rec-reason', 'data-reason': rec.stop_reason }, ` — ${words('record.reason_', rec.stop_reason)}`) : ''),
      h('td', {}, rec.started_by === 'schedule' ? t('record.by_schedule') : rec.started_by || '—'),
      h('td', { class: 'rec-pauses' }, pauses.length ? h('ul', { class: 'plain' }, pauses.map((p) => h('li', {}, pauseWords(p)))) : t('record.no_pauses')),
      h('td', {}, playable ? h('button', { type: 'button', class: 'rec-view', 'aria-label': t('record.view_of', { when }),
        onclick: () => viewRecording(rec) }, t('record.view')) : '')),
    h('tr', { class: 'rec-files-row', 'data-recording': rec.id }, h('td', { colspan: span },
      files.length
        ? h('details', { class: 'rec-files', open: det.recOpen.has(rec.id),
          ontoggle: (e) => { if (e.target.open) det.recOpen.add(rec.id); else det.recOpen.delete(rec.id); } },
          h('summary', {}, t('record.files', { n: fmtNumber(files.length) })),
          h('ul', { class: 'plain' }, files.map((f) => h('li', {}, fileLink(f), ' ',
            h('span', { class: 'muted small' }, t('record.file_desc', { track: words('record.track_', f.track), part: f.part, size: fmtSize(f.bytes) }))))))
        : h('span', { class: 'muted small' }, t(['recording', 'paused'].includes(rec.state) ? 'record.no_files_yet' : 'record.no_files')))),
  ];
}

// "Lúc 08:12 (Nguyễn Văn A), dừng 0:03:05; … cho ghi tiếp"
function pauseWords(p) {
  const at = new Date(p.at);
  const by = p.by || '—';
  if (!p.resumed_at) return t('record.pause_open', { at: fmtTime(at), by });
  const s = t('record.pause_item', { at: fmtTime(at), by, len: hms((new Date(p.resumed_at) - at) / 1000) });
  return p.resumed_by && p.resumed_by !== p.by ? s + t('record.pause_resumer', { by: p.resumed_by }) : s;
}

// A file to download: with the session cookie an <a download> does it (range requests
// and all); a token rides in a header, so the page fetches the file itself.
function fileLink(f) {
  if (api.token) {
    return h('button', { type: 'button', class: 'linkish rec-file', 'data-track': f.track, title: f.sha256 ? `SHA-256 ${f.sha256}` : null,
      'aria-label': t('record.download_of', { name: f.name }),
      onclick: () => api.download(f.url, f.name).catch((err) => say($('d-msg'), `${t('err.generic')}: ${err.message}`, 'error')) }, f.name);
  }
  return h('a', { href: f.url, download: f.name, class: 'rec-file', 'data-track': f.track, title: f.sha256 ? `SHA-256 ${f.sha256}` : null,
    'aria-label': t('record.download_of', { name: f.name }) }, f.name);
}

// "Xem": the program's files one after another in one <video> (on ended, the next
// file of the part, then the next part), the content's likewise beside it. The
// recording is read again first: one still being made has more files by now.
async function viewRecording(rec) {
  const det = state.detail;
  const box = $('d-player');
  if (api.token) { // a <video> cannot send the token's header
    box.replaceChildren(h('p', { class: 'msg' }, t('record.needs_session')));
    return;
  }
  const full = await api.get(`/api/v1/recordings/${rec.id}`).catch(() => rec);
  if (state.detail !== det) return;
  const files = full.files || [];
  const when = fmtDateTime(new Date(full.started_at));
  box.replaceChildren(h('div', { class: 'card inset rec-player', 'data-recording': full.id },
    h('h3', { tabindex: '-1' }, t('record.playing', { when })),
    h('div', { class: 'rec-players' },
      ['program', 'content'].map((track) => segmentPlayer(files, track))),
    h('button', { type: 'button', class: 'rec-close', onclick: () => box.replaceChildren() }, t('record.close'))));
  box.querySelector('h3').focus();
}

// One <video controls> that plays @track's files in order; '' when there are none.
function segmentPlayer(files, track) {
  const list = files.map((f, i) => ({ f, i })).filter((x) => x.f.track === track)
    .sort((a, b) => (a.f.part - b.f.part) || (a.i - b.i)).map((x) => x.f);
  if (!list.length) return '';
  const label = words('record.track_', track);
  const video = h('video', { controls: true, preload: 'metadata', playsinline: true, class: `rec-${track}`, 'aria-label': label });
  const note = h('span', { class: 'muted small rec-seg', 'aria-live': 'polite' });
  let at = 0;
  const prev = h('button', { type: 'button', class: 'rec-prev', onclick: () => go(at - 1, true) }, t('record.prev'));
  const next = h('button', { type: 'button', class: 'rec-next', onclick: () => go(at + 1, true) }, t('record.next'));
  function go(i, play) {
    if (i < 0 || i >= list.length) return;
    at = i;
    const f = list[i];
    video.src = f.url;
    video.dataset.file = f.name;
    video.dataset.index = String(i);
    note.textContent = t('record.segment', { i: fmtNumber(i + 1), n: fmtNumber(list.length), part: f.part });
    prev.disabled = i === 0;
    next.disabled = i === list.length - 1;
    if (play) video.play().catch(() => {});
  }
  video.addEventListener('ended', () => go(at + 1, true));
  video.addEventListener('error', () => { note.textContent = t('record.play_failed'); });
  go(0, false);
  return h('figure', { class: 'rec-track', 'data-track': track },
    h('figcaption', {}, label), video, h('div', { class: 'row' }, prev, note, next));
}

// Per-site join links: an admin mints one site token per site, valid until a day after
// the meeting's last session, and the page keeps them: asking again shows the same
// links instead of minting more. Others see how to ask an admin.
const madeLinks = new Map(); // meeting id -> [{ s, url }]
async function joinLinks(m) {
  const box = $('d-links');
  const det = state.detail;
  if (madeLinks.has(m.id)) { showLinks(madeLinks.get(m.id)); return; }
  if (!det.sites) await loadRollCall();
  const rows = [];
  let admin = true;
  const lastEnd = Math.max(...(m.occurrences || []).map((o) => new Date(o.ends_at).getTime()), Date.now());
  const expires = new Date(lastEnd + 86400e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const s of det.sites || []) {
    if (!admin) break;
    try {
      const tok = await api.post('/api/v1/tokens', { role: 'site', scope: String(s.site_id), expires_at: expires, label: `${m.title} — ${s.site_name}`.slice(0, 200) });
      rows.push({ s, url: `${location.origin}/hall#token=${tok.token}` });
    } catch (err) {
      if (err.status === 403) admin = false;
      else { say($('d-msg'), err.message, 'error'); break; }
    }
  }
  if (!admin) {
    box.replaceChildren(h('p', { class: 'muted' }, t('links.how')),
      h('pre', {}, (det.sites || []).slice(0, 5).map((s) => `curl -H "Authorization: Bearer $ADMIN" -d '{"role":"site","scope":"${s.site_id}"}' -H 'content-type: application/json' ${location.origin}/api/v1/tokens   # ${s.site_name} -> ${location.origin}/hall#token=…`).join('\n')));
    return;
  }
  madeLinks.set(m.id, rows);
  showLinks(rows);
}

function showLinks(rows) {
  const all = rows.map((r) => `${r.s.site_name}\t${r.url}`).join('\n');
  $('d-links').replaceChildren(
    h('p', {}, t('links.made', { n: rows.length }), ' ',
      h('button', { type: 'button', onclick: () => navigator.clipboard?.writeText(all) }, t('links.copy_all'))),
    h('div', { class: 'scroll' }, h('table', {}, h('tbody', {}, rows.map((r) => h('tr', {},
      h('td', {}, r.s.site_name),
      h('td', {}, h('input', { type: 'text', readonly: true, value: r.url, 'aria-label': `${t('links.link')}: ${r.s.site_name}` })),
      h('td', {}, h('button', { type: 'button', onclick: () => navigator.clipboard?.writeText(r.url) }, t('links.copy')))))))));
}

// ---- live events ----

const refreshRollCall = debounce(() => loadRollCall(), 300);

function onEvent(m) {
  const det = state.detail;
  if (m.type === 'site.presence') {
    // a hall's page opened or closed: ready (or not) before it joins
    const row = det?.sites?.find((s) => s.site_id === m.site_id);
    if (row) { row.online = m.online; refreshRollCall(); }
    return;
  }
  if (m.type === 'recording') {
    // one event per change of the occurrence's recording; stopped: none any more
    if (det?.occ && m.occurrence_id === det.occ.id) {
      det.recording = { id: m.recording_id, state: m.state };
      renderRec();
      refreshRecordings();
    }
    return;
  }
  if (!det || m.meeting_id !== det.meeting.id) {
    if (m.type === 'meeting.updated' || m.type === 'meeting.cancelled') loadCalendar();
    return;
  }
  switch (m.type) {
    case 'site.joined':
    case 'site.left':
      refreshRollCall();
      break;
    case 'hand':
      if (m.raised) det.hands.add(m.site_id); else det.hands.delete(m.site_id);
      renderHands();
      break;
    case 'mute':
      if (m.muted) det.muted.add(m.site_id); else det.muted.delete(m.site_id);
      refreshRollCall();
      break;
    case 'floor':
      det.floor = m.site_id;
      refreshRollCall();
      break;
    case 'presenter':
      if (m.occurrence_id !== det.occ?.id) break;
      det.presenter = m.site_id;
      refreshRollCall();
      break;
    case 'content':
      if (m.occurrence_id !== det.occ?.id) break;
      det.content = m.site_id;
      refreshRollCall();
      break;
    case 'occurrence.open':
    case 'occurrence.live':
    case 'occurrence.ended':
      if (det.occ && m.occurrence_id === det.occ.id && $('d-state')) $('d-state').textContent = t(`occ.${m.type.split('.')[1] === 'open' ? 'open' : m.type.split('.')[1]}`);
      refreshRollCall();
      if (m.type === 'occurrence.ended') refreshRecordings(); // its recording closes
      break;
    case 'meeting.updated':
    case 'meeting.cancelled':
      loadCalendar();
      break;
    default:
  }
}

applyStrings(document);
const saved = sessionStorage.getItem('lt.token');
if (saved) signIn(saved).catch(() => sessionStorage.removeItem('lt.token'));
else if (Api.hasSession()) signIn(null).catch(() => sessionStorage.removeItem('lt.csrf'));
// a tab opened afresh: the cookie may hold a session this tab has no CSRF token of yet
else Api.findSession().then((me) => me && signIn(null)).catch(() => sessionStorage.removeItem('lt.csrf'));
