// common.js: what every page of lienthong shares: strings (from po/ via i18n.json),
// the API client, the dashboard/site WebSocket, dates in Asia/Ho_Chi_Minh, grades.

export const TZ = 'Asia/Ho_Chi_Minh';
const LANGS = ['vi', 'en'];
let catalog = {};
let lang = 'vi';

// Loads the string tables; Vietnamese unless the user picked English on this device.
export async function loadStrings() {
  const all = await (await fetch('/web/i18n.json')).json();
  const saved = localStorage.getItem('lt.lang');
  lang = LANGS.includes(saved) ? saved : 'vi';
  catalog = all[lang] || all.vi;
  document.documentElement.lang = lang;
  applyStrings(document);
}

// t('key', {n: 3}) -> the string with {n} replaced; the key itself if missing.
export function t(key, vars = {}) {
  const s = catalog[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function currentLang() {
  return lang;
}

// Fills every [data-i18n] element's text and [data-i18n-attr="attr:key,..."] attributes.
export function applyStrings(root) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-attr]').forEach((el) => {
    for (const pair of el.dataset.i18nAttr.split(',')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  });
}

// A language switch button (vi <-> en) placed in @el.
export function languageSwitch(el) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'lang';
  b.textContent = lang === 'vi' ? 'English' : 'Tiếng Việt';
  b.setAttribute('lang', lang === 'vi' ? 'en' : 'vi');
  b.addEventListener('click', () => {
    localStorage.setItem('lt.lang', lang === 'vi' ? 'en' : 'vi');
    location.reload();
  });
  el.append(b);
}

// h('div', {class: 'x', onclick: f}, child, 'text'): a small DOM builder.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

// The API as one bearer token sees it, or (@token null) as the person signed in: the
// browser sends the session cookie, and writes carry the session's CSRF token.
export class Api {
  constructor(token) {
    this.token = token;
  }

  // Returns: whether this tab holds a session (signed in at /).
  static hasSession() { return !!sessionStorage.getItem('lt.csrf'); }

  // A tab opened afresh (a bookmark, a new window) has the session cookie but not its
  // CSRF token, which lives per tab: GET /api/v1/session gives it again. Where a
  // trusted proxy signs people in (single sign-on), POST /api/v1/session with no
  // password opens a session for the person it names. /api/v1/session/options says
  // which applies (the cookie is HttpOnly: no page can look). Returns: the session's
  // description, or null when there is none.
  static async findSession({ singleSignOn = false } = {}) {
    const opts = await (await fetch('/api/v1/session/options')).json();
    let res = null;
    if (opts.signed_in) res = await fetch('/api/v1/session');
    else if (singleSignOn && opts.single_sign_on) {
      res = await fetch('/api/v1/session', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
      });
    }
    if (!res?.ok) return null;
    const me = await res.json();
    if (!me.csrf_token) return null;
    sessionStorage.setItem('lt.csrf', me.csrf_token);
    return me;
  }

  async raw(method, path, { body, accept, headers = {} } = {}) {
    const h = this.token
      ? { authorization: `Bearer ${this.token}`, ...headers }
      : method === 'GET' ? { ...headers } : { 'x-csrf-token': sessionStorage.getItem('lt.csrf') || '', ...headers };
    if (accept) h.accept = accept;
    if (body !== undefined) h['content-type'] = 'application/json';
    return fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  async call(method, path, opts) {
    const res = await this.raw(method, path, opts);
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!res.ok) throw new ApiError(res.status, json);
    return json;
  }

  get(path) { return this.call('GET', path); }
  post(path, body, headers) { return this.call('POST', path, { body, headers }); }

  // Ends the session (a session only); the cookie is cleared by signald.
  async signOut() {
    sessionStorage.removeItem('lt.csrf');
    if (!this.token) await this.raw('DELETE', '/api/v1/session');
  }

  // Downloads @path as a file named @name (the token rides in a header, so no <a href>).
  async download(path, name, accept) {
    const res = await this.raw('GET', path, { accept });
    if (!res.ok) throw new ApiError(res.status, null);
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // The WebSocket of sites and dashboards. A browser cannot set Authorization on a
  // WebSocket; the token rides as a subprotocol (never in the URL, so never in a
  // proxy's log) and signald answers with lienthong.v1 only.
  socket() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return new WebSocket(`${proto}//${location.host}/api/v1/ws`,
      this.token ? ['lienthong.v1', `lienthong.bearer.${this.token}`] : ['lienthong.v1']);
  }
}

// A WebSocket that reconnects with growing delays and resubscribes; @onMessage gets
// each parsed message, @onState 'open' | 'closed'.
export class LiveSocket {
  constructor(api, { onMessage, onState, onOpen } = {}) {
    this.api = api;
    this.onMessage = onMessage || (() => {});
    this.onState = onState || (() => {});
    this.onOpen = onOpen || (() => {});
    this.subs = new Set();
    this.delay = 1000;
    this.closed = false;
    this.connect();
  }

  connect() {
    const ws = this.api.socket();
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 1000;
      this.onState('open');
      for (const id of this.subs) this.send({ type: 'subscribe', meeting_id: id });
      this.onOpen();
    };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch { return; }
      this.onMessage(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.onState('closed');
      if (this.closed) return;
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    };
  }

  send(m) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { this.ws.send(JSON.stringify(m)); return true; }
    return false;
  }

  subscribe(id) {
    this.subs.add(id);
    this.send({ type: 'subscribe', meeting_id: id });
  }

  unsubscribe(id) {
    this.subs.delete(id);
    this.send({ type: 'unsubscribe', meeting_id: id });
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}

// ---- dates: Vietnam keeps UTC+7 all year (no summer time) ----

const OFFSET_MS = 7 * 3600 * 1000;

// The Vietnamese calendar day (y, m 1-12, d) of instant @date.
export function vnParts(date) {
  const x = new Date(date.getTime() + OFFSET_MS);
  return { y: x.getUTCFullYear(), m: x.getUTCMonth() + 1, d: x.getUTCDate(), dow: x.getUTCDay(), hh: x.getUTCHours(), mm: x.getUTCMinutes() };
}

// The instant of y-m-d hh:mm in Vietnam.
export function vnDate(y, m, d, hh = 0, mm = 0) {
  return new Date(Date.UTC(y, m - 1, d, hh, mm) - OFFSET_MS);
}

export function vnDayStart(date) {
  const p = vnParts(date);
  return vnDate(p.y, p.m, p.d);
}

// Monday 00:00 of the week holding @date (weeks start on Monday in Vietnam).
export function vnWeekStart(date) {
  const p = vnParts(date);
  const back = (p.dow + 6) % 7;
  return vnDate(p.y, p.m, p.d - back);
}

export function addDays(date, n) {
  return new Date(date.getTime() + n * 86400000);
}

const loc = () => (lang === 'vi' ? 'vi-VN' : 'en-GB');
export const fmtTime = (d) => new Intl.DateTimeFormat(loc(), { timeZone: TZ, hour: '2-digit', minute: '2-digit', hour12: false }).format(d);
export const fmtDay = (d) => new Intl.DateTimeFormat(loc(), { timeZone: TZ, weekday: 'long', day: '2-digit', month: '2-digit', year: 'numeric' }).format(d);
export const fmtShortDay = (d) => new Intl.DateTimeFormat(loc(), { timeZone: TZ, weekday: 'short', day: '2-digit', month: '2-digit' }).format(d);
export const fmtDateTime = (d) => `${fmtTime(d)} ${fmtDay(d)}`;
export const fmtNumber = (n, digits = 0) => new Intl.NumberFormat(loc(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);

// "HH:MM" of an <input type=time> and "YYYY-MM-DD" of an <input type=date> as Vietnam time.
export function fromInputs(dateStr, timeStr) {
  const [y, m, d] = dateStr.split('-').map(Number);
  const [hh, mm] = timeStr.split(':').map(Number);
  return vnDate(y, m, d, hh, mm);
}

export function toDateInput(date) {
  const p = vnParts(date);
  return `${p.y}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

export function toTimeInput(date) {
  const p = vnParts(date);
  return `${String(p.hh).padStart(2, '0')}:${String(p.mm).padStart(2, '0')}`;
}

// ---- link grades (issue 7): under 1 % loss good, 3 % ok, 10 % bad, else very bad;
// one grade lower with jitter over 40 ms or RTT over 300 ms ----

export const GRADES = ['unknown', 'good', 'ok', 'bad', 'very_bad'];

export function gradeOf(lossPct, jitterMs, rttMs) {
  if (lossPct === null || lossPct === undefined || Number.isNaN(lossPct)) return 0;
  let g = lossPct < 1 ? 1 : lossPct < 3 ? 2 : lossPct < 10 ? 3 : 4;
  if ((jitterMs ?? 0) > 40 || (rttMs ?? 0) > 300) g = Math.min(4, g + 1);
  return g;
}

// signald's link grades are 0 good .. 3 very bad, -1 while unknown (sig-links.c)
export const apiGrade = (g) => (typeof g === 'number' && g >= 0 && g <= 3 ? g + 1 : 0);

export const gradeName = (g) => GRADES[g] || 'unknown';
export const gradeWords = (g) => t(`grade.${gradeName(g)}`);

// Reads a unit subtree down to tier @downTo (null: the unit alone) with a cache:
// code -> {code, name, tier, parent, children}. One request per unit that has children.
export class UnitTree {
  constructor(api) {
    this.api = api;
    this.units = new Map();
    this.kids = new Map();
    this.tiers = ['central', 'province', 'district', 'commune'];
  }

  async unit(code) {
    if (!this.units.has(code)) {
      const u = await this.api.get(`/api/v1/units/${encodeURIComponent(code)}`);
      this.units.set(code, u);
    }
    return this.units.get(code);
  }

  async children(code) {
    if (!this.kids.has(code)) {
      const r = await this.api.get(`/api/v1/units?parent=${encodeURIComponent(code)}`);
      for (const u of r.units) if (!this.units.has(u.code)) this.units.set(u.code, u);
      this.kids.set(code, r.units.map((u) => u.code));
    }
    return this.kids.get(code);
  }

  // Every unit code of the subtree of @code down to tier @downTo, @code first.
  async subtree(code, downTo) {
    const root = await this.unit(code);
    const out = [code];
    if (!downTo) return out;
    const stop = this.tiers.indexOf(downTo);
    const walk = async (c) => {
      const u = this.units.get(c);
      if (!u || !u.children || this.tiers.indexOf(u.tier) >= stop) return;
      const ks = await this.children(c);
      await Promise.all(ks.map(async (k) => { out.push(k); await walk(k); }));
    };
    if (this.tiers.indexOf(root.tier) < stop || stop < 0) await walk(code);
    return out;
  }
}

// A status line with aria-live, for messages the user should hear.
export function say(el, text, kind = '') {
  el.textContent = text;
  el.className = `msg ${kind}`;
}
