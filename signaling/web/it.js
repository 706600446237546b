// it.js: the IT staff's live board for one meeting: legs worst first, alarms with time
// and duration, per-leg charts of the last 15 minutes (canvas), the unit tree coloured
// by grade, the node-to-node links of the cascade and who presents (issue 16).
import {
  Api, ApiError, LiveSocket, UnitTree, addDays, apiGrade, fmtDateTime, fmtNumber, fmtTime, gradeName,
  gradeWords, h, languageSwitch, loadStrings, say, t,
} from './common.js';

await loadStrings();
languageSwitch(document.getElementById('lang'));

const $ = (id) => document.getElementById(id);
let api, tree, live;
const board = { meetingId: null, links: [], units: [], siteUnit: new Map(), unitSite: new Map(), leg: null, history: null, timer: 0 };

async function signIn(token) {
  const a = new Api(token);
  const now = new Date();
  const r = await a.get(`/api/v1/meetings?from=${addDays(now, -1).toISOString()}&to=${addDays(now, 7).toISOString()}`);
  api = a;
  tree = new UnitTree(api);
  if (token) sessionStorage.setItem('lt.token', token);
  $('signin').classList.add('hidden');
  $('board').classList.remove('hidden');
  live = new LiveSocket(api, { onMessage: onEvent });
  const sel = $('meeting');
  sel.classList.remove('hidden');
  sel.replaceChildren(...r.meetings.filter((m) => !m.cancelled).map((m) => h('option', { value: m.id },
    `${m.title} · ${fmtDateTime(new Date(m.occurrences?.[0]?.starts_at || m.starts_at))}`)));
  const want = Number(new URLSearchParams(location.hash.slice(1)).get('meeting'));
  if (want) {
    if (![...sel.options].some((o) => Number(o.value) === want)) sel.append(h('option', { value: want }, `#${want}`));
    sel.value = String(want);
  }
  sel.addEventListener('change', () => pick(Number(sel.value)));
  if (sel.value) await pick(Number(sel.value));
  else say($('it-msg'), t('it.no_meetings'));
}

$('signin').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await signIn($('token').value.trim());
  } catch (err) {
    say($('signin-msg'), err instanceof ApiError && err.status === 401 ? t('auth.bad') : `${t('err.generic')}: ${err.message}`, 'error');
  }
});

async function pick(id) {
  if (board.meetingId) live.unsubscribe(board.meetingId);
  board.meetingId = id;
  board.leg = null;
  history.replaceState(null, '', `#meeting=${id}`);
  live.subscribe(id);
  const m = await api.get(`/api/v1/meetings/${id}`);
  board.meeting = m;
  board.siteUnit = new Map();
  board.unitSite = new Map();
  board.sitesLoaded = false;
  await loadSites(id);
  board.units = [];
  for (const p of m.participants || []) board.units.push(...await tree.subtree(p.unit, p.down_to || null));
  clearInterval(board.timer);
  board.timer = setInterval(refresh, 5000);
  await refresh();
}

// Sites and their units, from the roll call of the meeting's current occurrence.
// A failed load is tried again at the next refresh: until then legs show site ids
// and the unit tree stays uncoloured, rather than for as long as the page is open.
async function loadSites(id) {
  try {
    const occ = currentOcc(board.meeting);
    const att = await api.get(`/api/v1/meetings/${id}/attendance${occ ? `?occurrence=${occ.id}` : ''}`);
    if (id !== board.meetingId) return;
    board.siteUnit = new Map(att.sites.map((s) => [s.site_id, { unit: s.unit, name: s.site_name }]));
    board.unitSite = new Map(att.sites.map((s) => [s.unit, s.site_id]));
    board.sitesLoaded = true;
  } catch { /* tried again at the next refresh */ }
}

function currentOcc(m) {
  const now = Date.now();
  return (m.occurrences || []).find((o) => new Date(o.ends_at) > now) || (m.occurrences || []).at(-1);
}

async function refresh() {
  const id = board.meetingId;
  if (!board.sitesLoaded) await loadSites(id);
  try {
    const [links, alarms] = await Promise.all([
      api.get(`/api/v1/meetings/${id}/links`).catch((e) => (e.status === 404 ? { links: [], missing: true } : Promise.reject(e))),
      api.get(`/api/v1/alarms?meeting=${id}`).catch((e) => (e.status === 404 ? { alarms: [] } : Promise.reject(e))),
    ]);
    board.links = links.links;
    renderLegs();
    renderAlarms(alarms.alarms);
    const occ = currentOcc(board.meeting);
    const media = occ ? await api.get(`/api/v1/occurrences/${occ.id}/media`).catch(() => null) : null;
    renderTree();
    renderNodes(media);
    renderPresenting(media);
    if (board.leg) await loadHistory(board.leg);
    say($('it-msg'), t('it.updated', { time: fmtTime(new Date()) }));
  } catch (err) {
    say($('it-msg'), `${t('err.generic')}: ${err.message}`, 'error');
  }
}

const fmt = (x, d = 1) => (x === null || x === undefined || x < 0 ? '–' : fmtNumber(x, d));

function legName(l) {
  if (l.kind === 'site') return board.siteUnit.get(l.site_id)?.name || `${t('it.site')} #${l.site_id}`;
  return `${t('it.node')} ${l.node_id} ⇄ ${l.endpoint.replace(/^node:/, '')}`;
}

function renderLegs() {
  const rows = board.links;
  $('legs-empty').classList.toggle('hidden', rows.length > 0);
  $('legs').replaceChildren(
    h('thead', {}, h('tr', {}, h('th', {}, t('it.leg')), h('th', {}, t('it.grade')), h('th', {}, t('it.loss_short')),
      h('th', {}, t('it.jitter_short')), h('th', {}, t('it.rtt_short')), h('th', {}, 'kbps'),
      h('th', {}, t('it.pair')), h('th', {}, t('it.concealed_short')),
      h('th', { title: t('it.repair_title') }, t('it.repair_short')), h('th', { title: t('it.estimate_title') }, t('it.estimate_short')))),
    h('tbody', {}, rows.map((l) => {
      const d = l.down || l.up || {};
      return h('tr', { class: `clickable${board.leg === l.leg ? ' sel' : ''}`, tabindex: 0, 'data-leg': l.leg,
        onclick: () => selectLeg(l.leg), onkeydown: (e) => { if (e.key === 'Enter') selectLeg(l.leg); } },
      h('td', {}, legName(l), l.level && l.level !== 'full' ? ` (${t(`level.${l.level}`)})` : ''),
      h('td', {}, h('span', { class: `pill g-${gradeName(apiGrade(l.grade))}` }, gradeWords(apiGrade(l.grade)))),
      h('td', {}, `${fmt(l.up?.loss)} / ${fmt(l.down?.loss)}`),
      h('td', {}, `${fmt(l.up?.jit, 0)} / ${fmt(l.down?.jit, 0)}`),
      h('td', {}, fmt(d.rtt, 0)),
      h('td', {}, `${fmt(l.up?.kbps, 0)} / ${fmt(l.down?.kbps, 0)}`),
      // the remote candidate type of the selected ICE pair: "relay" means via TURN
      h('td', { title: l.pair ? `${l.pair.local} ⇄ ${l.pair.remote}` : '' }, l.pair?.remote || '–'),
      // what the node received: audio it had to conceal, video frozen now
      h('td', { 'data-frozen': l.up?.frozen === 1 ? '1' : '0' }, fmt(l.up?.concealed),
        l.up?.frozen === 1 ? h('span', { class: 'pill g-very_bad' }, ` ${t('it.frozen')}`) : ''),
      // retransmission: the share of the uplink's lost packets it filled, and the
      // downlink's requests answered
      h('td', { 'data-repair': l.repair ? '1' : '0' }, repairText(l.repair)),
      // what the node estimates the downlink takes; "limited" when that holds it back
      h('td', {}, l.cc?.estimate_kbps != null ? fmt(l.cc.estimate_kbps, 0) : '–',
        l.cc?.limited ? h('span', { class: 'pill g-bad' }, ` ${t('it.limited')}`) : ''));
    })));
}

// "96% ↑ · 67/72 ↓": what retransmission repaired on a leg, '–' when the node said nothing
function repairText(r) {
  if (!r) return '–';
  const up = r.up_lost > 0 && r.up_recovered != null ? `${fmt((100 * r.up_recovered) / r.up_lost, 0)}% ↑` : '';
  const down = r.down_asked > 0 && r.down_answered != null ? `${r.down_answered}/${r.down_asked} ↓` : '';
  return [up, down].filter(Boolean).join(' · ') || '0';
}

function renderAlarms(alarms) {
  const now = Date.now() / 1000;
  const when = (x) => (typeof x === 'number' ? new Date(x * 1000) : new Date(x));
  $('alarms').replaceChildren(
    h('thead', {}, h('tr', {}, h('th', {}, t('it.alarm')), h('th', {}, t('it.raised')), h('th', {}, t('it.duration')))),
    h('tbody', {}, alarms.length ? alarms.map((a) => {
      const r = when(a.raised_at), c = a.cleared_at ? when(a.cleared_at) : null;
      const secs = Math.max(0, Math.round(((c ? c.getTime() / 1000 : now) - r.getTime() / 1000)));
      return h('tr', {}, h('td', {}, h('span', { class: `pill ${c ? 'g-unknown' : 'g-very_bad'}` }, t(`alarm.${a.kind || a.type}`)), ' ', a.subject || a.leg || a.node_id || ''),
        h('td', {}, fmtDateTime(r)),
        h('td', {}, `${Math.floor(secs / 60)}′${String(secs % 60).padStart(2, '0')}″${c ? '' : ` (${t('it.open')})`}`));
    }) : h('tr', {}, h('td', { colspan: 3, class: 'muted' }, t('it.no_alarms')))));
}

// The unit tree of the meeting, each unit coloured by its site's leg grade.
function renderTree() {
  const gradeByUnit = new Map();
  for (const l of board.links) {
    if (l.kind !== 'site') continue;
    const u = board.siteUnit.get(l.site_id)?.unit;
    if (u) gradeByUnit.set(u, Math.max(gradeByUnit.get(u) || 0, apiGrade(l.grade)));
  }
  const inMeeting = new Set(board.units);
  // branches holding a graded site stay open; the rest fold when large
  const lit = new Set();
  for (const u of gradeByUnit.keys()) for (let c = u; c && !lit.has(c); c = tree.units.get(c)?.parent) lit.add(c);
  const roots = board.units.filter((c) => !inMeeting.has(tree.units.get(c)?.parent));
  const node = (code) => {
    const u = tree.units.get(code) || { name: code };
    const g = gradeByUnit.get(code) || 0;
    const kids = (tree.kids.get(code) || []).filter((k) => inMeeting.has(k));
    const label = h('span', {}, h('span', { class: `dot g-${gradeName(g)}`, role: 'img', 'aria-label': gradeWords(g) }), u.name);
    if (!kids.length) return h('li', {}, label);
    const ul = h('ul', {}, kids.map(node));
    return h('li', {}, h('details', { open: lit.has(code) || kids.length <= 12 }, h('summary', {}, label), ul));
  };
  $('tree').replaceChildren(h('ul', {}, roots.map(node)));
}

// The cascade: each node under its parent, the link coloured by its leg's grade.
function renderNodes(media) {
  const nodes = media?.leg?.nodes;
  if (!nodes || !nodes.length) { $('nodes').replaceChildren(h('p', { class: 'muted' }, t('it.no_leg'))); return; }
  const linkGrade = (a, b) => {
    const l = board.links.find((x) => x.kind !== 'site' && ((x.node_id === a && x.endpoint === `node:${b}`) || (x.node_id === b && x.endpoint === `node:${a}`)));
    return l ? apiGrade(l.grade) : 0;
  };
  const byParent = new Map();
  for (const n of nodes) {
    const p = n.parent || '';
    if (!byParent.has(p)) byParent.set(p, []);
    byParent.get(p).push(n);
  }
  const ids = new Set(nodes.map((n) => n.node_id));
  const item = (n) => {
    const g = n.parent ? linkGrade(n.node_id, n.parent) : 0;
    return h('li', {},
      h('span', { class: `dot g-${n.parent ? gradeName(g) : 'unknown'}` }),
      `${n.node_id} (${n.unit || ''}) · ${n.up ? t('it.up') : t('it.down')} · ${t('it.n_sites', { n: (n.sites || []).length })}`,
      n.parent ? h('span', { class: 'muted' }, ` ⇄ ${n.parent}: ${gradeWords(g)}`) : '',
      (byParent.get(n.node_id) || []).length ? h('ul', { class: 'nodes' }, byParent.get(n.node_id).map(item)) : '');
  };
  $('nodes').replaceChildren(h('ul', {}, nodes.filter((n) => !n.parent || !ids.has(n.parent)).map(item)));
}

// Who holds the presenter right and who shows a screen now; live events keep it
// current between refreshes.
function renderPresenting(media) {
  const leg = media?.leg;
  if (leg) board.presenting = { presenter: leg.presenter_site_id ?? null, content: leg.content_site_id ?? null };
  const p = leg ? board.presenting : null;
  const name = (id) => board.siteUnit.get(id)?.name || `${t('it.site')} #${id}`;
  const el = $('presenting');
  el.dataset.presenter = p?.presenter ?? '';
  el.dataset.content = p?.content ?? '';
  el.replaceChildren(...(!p ? [] : [
    h('span', { class: 'presenter' }, t('it.presenter', { name: name(p.presenter) })), ' · ',
    p.content ? h('strong', { class: 'presenting' }, `📽 ${t('it.presenting', { name: name(p.content) })}`) : t('it.nobody_presents')]));
}

// ---- charts ----

async function selectLeg(leg) {
  board.leg = leg;
  renderLegs();
  await loadHistory(leg);
}

async function loadHistory(leg) {
  try {
    board.history = await api.get(`/api/v1/links/${encodeURIComponent(leg)}/history`);
  } catch (err) {
    board.history = null;
    $('chart-leg').textContent = err.status === 404 ? t('it.no_data') : err.message;
    drawAll();
    return;
  }
  const l = board.links.find((x) => x.leg === leg);
  $('chart-leg').textContent = `${l ? legName(l) : leg} · ${t('it.samples', { n: board.history.up?.length || board.history.down?.length || 0 })}`;
  drawAll();
}

function drawAll() {
  const hist = board.history || {};
  draw($('c-loss'), hist, 'loss', '%');
  draw($('c-jit'), hist, 'jit', 'ms');
  draw($('c-rtt'), hist, 'rtt', 'ms');
  draw($('c-kbps'), hist, 'kbps', 'kbps');
}

// One line per direction over the last 15 minutes; up is blue, down orange.
function draw(canvas, hist, key, unit) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600, hgt = canvas.clientHeight || 140;
  canvas.width = w * dpr;
  canvas.height = hgt * dpr;
  const c = canvas.getContext('2d');
  c.scale(dpr, dpr);
  c.clearRect(0, 0, w, hgt);
  c.font = '12px system-ui, sans-serif';
  const series = [['up', '#0b5cad'], ['down', '#d4570b']].map(([d, col]) => [(hist[d] || []).filter((s) => s[key] >= 0), col]);
  const all = series.flatMap(([s]) => s);
  if (!all.length) {
    c.fillStyle = '#5b6570';
    c.fillText(t('it.no_data'), 10, hgt / 2);
    canvas.setAttribute('aria-label', t('it.no_data'));
    return;
  }
  const tmax = Math.max(...all.map((s) => s.t));
  const tmin = tmax - 900;
  const vmax = Math.max(1, ...all.map((s) => s[key])) * 1.1;
  const L = 40, B = 18;
  const x = (tt) => L + ((tt - tmin) / 900) * (w - L - 6);
  const y = (v) => hgt - B - (v / vmax) * (hgt - B - 6);
  c.strokeStyle = '#d5dae0';
  c.fillStyle = '#5b6570';
  for (const f of [0, 0.5, 1]) {
    c.beginPath(); c.moveTo(L, y(vmax * f / 1.1)); c.lineTo(w - 6, y(vmax * f / 1.1)); c.stroke();
    c.fillText(fmtNumber(vmax * f / 1.1, vmax < 10 ? 1 : 0), 2, y(vmax * f / 1.1) + 4);
  }
  c.fillText(`−15′`, L, hgt - 4);
  c.fillText(unit, w - 40, hgt - 4);
  for (const [s, col] of series) {
    c.strokeStyle = col;
    c.lineWidth = 1.5;
    c.beginPath();
    s.forEach((p, i) => (i ? c.lineTo(x(p.t), y(p[key])) : c.moveTo(x(p.t), y(p[key]))));
    c.stroke();
  }
  const last = all.at(-1);
  canvas.setAttribute('aria-label', `${key}: ${fmtNumber(last[key], 1)} ${unit}`);
}

// ---- live ----

function onEvent(m) {
  if (m.meeting_id !== board.meetingId) return;
  if (m.type === 'link.stats' && Array.isArray(m.links)) {
    for (const l of m.links) {
      if (!l || !l.leg) continue;
      const i = board.links.findIndex((x) => x.leg === l.leg);
      if (i >= 0) board.links[i] = { ...board.links[i], ...l }; else board.links.push(l);
      if (board.history && board.leg === l.leg) {
        for (const d of ['up', 'down']) if (l[d]) (board.history[d] ||= []).push({ t: m.t, ...l[d] });
      }
    }
    board.links.sort((a, b) => b.grade - a.grade);
    renderLegs();
    renderTree();
    if (board.history) drawAll();
  } else if ((m.type === 'presenter' || m.type === 'content') && board.presenting) {
    board.presenting[m.type === 'presenter' ? 'presenter' : 'content'] = m.site_id;
    renderPresenting({ leg: { presenter_site_id: board.presenting.presenter, content_site_id: board.presenting.content } });
  } else if (['site.joined', 'site.left', 'link.level', 'endpoint.state', 'node.up', 'node.down'].includes(m.type)) {
    refresh();
  }
}

const saved = sessionStorage.getItem('lt.token');
if (saved) signIn(saved).catch(() => sessionStorage.removeItem('lt.token'));
else if (Api.hasSession()) signIn(null).catch(() => sessionStorage.removeItem('lt.csrf'));
// a tab opened afresh: the cookie may hold a session this tab has no CSRF token of yet
else Api.findSession().then((me) => me && signIn(null)).catch(() => sessionStorage.removeItem('lt.csrf'));
