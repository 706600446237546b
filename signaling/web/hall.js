// hall.js: the commune hall's page: one link per site (#token=...), the next meeting in
// large type, one join button, self view, mic mute, the line's grade in words, the
// "test my line" echo over the site WebSocket, rejoining on its own after a drop, and
// the content (issue 16): while the hall holds the presenter right, "Trình chiếu"
// shares its screen on a second video transceiver; another hall's content is shown
// large with the program beside it. A red "● Đang ghi hình" says the meeting is being
// recorded.
import {
  Api, LiveSocket, addDays, fmtDateTime, fmtNumber, gradeName, gradeOf, gradeWords, languageSwitch,
  loadStrings, say, t,
} from './common.js';

await loadStrings();
languageSwitch(document.getElementById('lang'));

const $ = (id) => document.getElementById(id);
const announce = (text, kind) => say($('announce'), text, kind);

// the token travels in the fragment (never sent to a server, never in proxy logs);
// keep it for reloads in this tab and take it out of the address bar
const frag = new URLSearchParams(location.hash.slice(1));
if (frag.get('token')) {
  sessionStorage.setItem('lt.site-token', frag.get('token'));
  history.replaceState(null, '', location.pathname);
}
const token = sessionStorage.getItem('lt.site-token');
if (!token) {
  announce(t('hall.no_token'), 'error');
  throw new Error('no site token');
}
const api = new Api(token);

const hall = {
  next: null,        // {meeting, occ}
  pc: null,          // the meeting's RTCPeerConnection
  echo: null,        // the line test's RTCPeerConnection
  stream: null,
  joined: false,     // the user wants to be in the meeting
  rejoining: false,
  statsTimer: 0,
  prev: null,
  micOff: false,
  hand: false,
  site: null,        // this hall's site id, from `joined`
  presenter: null,   // the site holding the presenter right in the joined occurrence
  content: null,     // the site presenting now, or null
  contentTx: null,   // the meeting connection's content transceiver (its 2nd video)
  share: null,       // this hall's screen track while it presents
  starting: false,   // content.start sent, not answered yet
  recording: null,   // the joined occurrence's recording: 'recording' | 'paused' | null
};

// Candidates that arrive before the answer wait for it.
let pendingIce = [];

const sock = new LiveSocket(api, {
  onMessage: onMessage,
  onState: (s) => {
    if (s === 'closed' && hall.joined) {
      setStatus(0, t('hall.dropped'));
      announce(t('hall.rejoining'), 'error');
      hall.rejoining = true;
    }
  },
  onOpen: () => {
    if (hall.joined && hall.rejoining) rejoin();
  },
});

function pcFor() {
  return hall.echo && hall.echo.kind === 'echo' ? hall.echo.pc : hall.pc;
}

async function onMessage(m) {
  switch (m.type) {
    case 'answer': {
      const pc = pcFor();
      if (!pc) return;
      await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      if (window.ltHall && pc === hall.pc) window.ltHall.answer = m.sdp;
      for (const c of pendingIce) await pc.addIceCandidate(c).catch(() => {});
      pendingIce = [];
      break;
    }
    case 'ice': {
      const pc = pcFor();
      if (!pc || !m.candidate) return;
      const c = { candidate: m.candidate, sdpMid: m.sdpMid ?? '0', sdpMLineIndex: m.sdpMLineIndex ?? 0 };
      if (pc.remoteDescription) await pc.addIceCandidate(c).catch(() => {});
      else pendingIce.push(c);
      break;
    }
    case 'rehome':
      announce(t('hall.rehome'));
      if (hall.joined) rejoin();
      break;
    case 'error':
      if (hall.echo) { finishEcho(t('hall.echo_failed', { why: m.message || m.code })); return; }
      if (hall.starting) { // the share was refused: take it down again
        stopShare(false);
        announce(`${t('hall.share_failed')}: ${m.message || m.code}`, 'error');
        return;
      }
      announce(`${t('err.generic')}: ${m.message || m.code}`, 'error');
      if (m.code === 'unavailable' && hall.joined) setTimeout(() => hall.joined && rejoin(), 3000);
      break;
    case 'joined':
      announce(hall.rejoining ? t('hall.rejoined') : t('hall.joined'), 'ok');
      hall.rejoining = false;
      hall.site = m.site_id ?? hall.site;
      hall.presenter = m.presenter_site_id ?? null;
      hall.content = m.content_site_id ?? null;
      // back after a drop while presenting: the old socket's close stopped it
      if (hall.share) {
        if (hall.presenter === hall.site) { hall.starting = true; sock.send({ type: 'content.start' }); }
        else stopShare(false);
      }
      showContent();
      updateShare();
      hall.recording = m.recording ?? null;
      showRecording();
      break;
    case 'content.ok':
      hall.starting = false;
      hall.content = m.content_site_id ?? null;
      if (hall.share && hall.content === hall.site) announce(t('hall.share_started'), 'ok');
      break;
    case 'presenter': // the right moved: to this hall, or away from it
      if (!hall.joined) return;
      hall.presenter = m.site_id;
      if (m.site_id === hall.site) announce(t('hall.share_right'), 'ok');
      else if (hall.share) { stopShare(false); announce(t('hall.share_lost')); }
      updateShare();
      break;
    case 'content':
      if (!hall.joined) return;
      hall.content = m.site_id;
      if (showContent()) announce(t('hall.content_on'));
      break;
    case 'recording': { // the occurrence's recording started, paused, resumed or stopped
      if (!hall.joined || (m.occurrence_id && m.occurrence_id !== hall.next?.occ.id)) return;
      const was = hall.recording;
      hall.recording = m.state === 'recording' || m.state === 'paused' ? m.state : null;
      if (hall.recording === was) return;
      showRecording();
      announce(t(hall.recording === 'recording' ? (was === 'paused' ? 'hall.rec_resumed' : 'hall.rec_started')
        : hall.recording === 'paused' ? 'hall.rec_paused_now' : 'hall.rec_stopped'));
      break;
    }
    case 'content.receive': // what its node sends it of the content
      if (!hall.joined || m.site_id !== hall.site) return;
      hall.contentGets = m.gets;
      showContent();
      break;
    case 'level': { // what this hall receives changed: a step-down, back up, or a pin
      announce(t(`hall.level.${m.level}`));
      // kept under the picture while it lasts: announcements are overwritten
      const note = $('level-note');
      note.textContent = m.level === 'full' ? '' : t('hall.level_now', { what: t(`level.${m.level}`) });
      note.classList.toggle('hidden', m.level === 'full');
      break;
    }
    default:
  }
}

// ---- the next meeting ----

async function loadNext() {
  const now = new Date();
  try {
    const r = await api.get(`/api/v1/meetings?from=${addDays(now, -1).toISOString()}&to=${addDays(now, 60).toISOString()}`);
    let best = null;
    for (const m of r.meetings) {
      if (m.cancelled) continue;
      for (const o of m.occurrences || []) {
        if (new Date(o.ends_at) <= now || o.state === 'ended') continue;
        if (!best || new Date(o.starts_at) < new Date(best.occ.starts_at)) best = { meeting: m, occ: o };
      }
    }
    hall.next = best;
    renderNext();
  } catch (err) {
    announce(err.status === 401 ? t('hall.bad_token') : `${t('err.generic')}: ${err.message}`, 'error');
  }
}

function renderNext() {
  const n = hall.next;
  if (!n) {
    $('next-title').textContent = t('hall.none');
    $('next-when').textContent = '';
    $('join').disabled = true;
    return;
  }
  const s = new Date(n.occ.starts_at);
  const mins = Math.round((s - Date.now()) / 60000);
  $('next-title').textContent = n.meeting.title;
  $('next-when').textContent = `${fmtDateTime(s)} · ${mins > 0 ? t('hall.in_min', { n: fmtNumber(mins) }) : t('hall.running')}`;
  $('join').disabled = hall.joined;
}

// ---- media ----

async function camera() {
  if (!hall.stream) {
    hall.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    $('self').srcObject = hall.stream;
  }
  return hall.stream;
}

// A peer connection whose offer, with its candidates, goes to signald. For the
// meeting (@withContent) a second video transceiver follows the program's, with no
// track until the hall presents: the node takes the first video m-line as the
// program and the second as the content. The line test has none.
async function offer(withContent) {
  const stream = await camera();
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  stream.getTracks().forEach((tr) => pc.addTrack(tr, stream));
  const contentTx = withContent ? pc.addTransceiver('video', { direction: 'sendrecv' }) : null;
  pc.ontrack = (e) => {
    if (contentTx && e.transceiver === contentTx) return; // shown by showContent()
    $('remote').srcObject = e.streams[0] || new MediaStream([e.track]);
  };
  // no trickling: the offer is sent once gathering is complete, with every candidate
  // in it (signald takes a site's candidates only after its join or echo)
  await pc.setLocalDescription(await pc.createOffer());
  // gather first: the node answers once and relayed candidates may trail
  if (pc.iceGatheringState !== 'complete') {
    await new Promise((r) => {
      const done = () => pc.iceGatheringState === 'complete' && r();
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(r, 3000);
    });
  }
  pendingIce = [];
  return { pc, contentTx, sdp: pc.localDescription.sdp };
}

async function join() {
  if (!hall.next) return;
  hall.joined = true;
  $('join').disabled = true;
  $('leave').classList.remove('hidden');
  setStatus(0, t('hall.connecting'));
  try {
    const { pc, contentTx, sdp } = await offer(true);
    hall.pc = pc;
    hall.contentTx = contentTx;
    watch(pc);
    window.ltHall = { offerSent: true, sdp, pc, contentTx };
    sock.send({ type: 'join', occurrence_id: hall.next.occ.id, sdp });
    $('mic').disabled = false;
    $('hand').disabled = false;
    startStats(() => hall.pc);
  } catch (err) {
    announce(`${t('hall.media_failed')}: ${err.message}`, 'error');
    hall.joined = false;
    $('join').disabled = false;
  }
}

// A connection that fails or stays disconnected is replaced: the site joins again.
function watch(pc) {
  let timer = 0;
  pc.addEventListener('iceconnectionstatechange', () => {
    if (pc !== hall.pc) return;
    const s = pc.iceConnectionState;
    if (s === 'failed' || s === 'disconnected') {
      setStatus(4, t('hall.dropped'));
      announce(t('hall.rejoining'), 'error');
      clearTimeout(timer);
      timer = setTimeout(() => { if (pc === hall.pc && pc.iceConnectionState !== 'connected') rejoin(); }, s === 'failed' ? 0 : 4000);
    } else if (s === 'connected' || s === 'completed') {
      clearTimeout(timer);
      if (hall.rejoining) { hall.rejoining = false; announce(t('hall.rejoined'), 'ok'); }
    }
  });
}

async function rejoin() {
  if (!hall.joined || !hall.next) return;
  hall.rejoining = true;
  hall.pc?.close();
  hall.pc = null;
  try {
    const { pc, contentTx, sdp } = await offer(true);
    hall.pc = pc;
    hall.contentTx = contentTx;
    window.ltHall = { offerSent: true, sdp, pc, contentTx };
    watch(pc);
    // still presenting: the screen goes on the new connection's content transceiver
    if (hall.share) await contentTx.sender.replaceTrack(hall.share);
    showContent();
    if (hall.micOff) pc.getSenders().forEach((s) => { if (s.track?.kind === 'audio') s.track.enabled = false; });
    if (!sock.send({ type: 'join', occurrence_id: hall.next.occ.id, sdp })) return; // onOpen retries
  } catch (err) {
    announce(`${t('hall.media_failed')}: ${err.message}`, 'error');
  }
}

function leave() {
  stopShare(false); // leaving stops the content at signald
  hall.joined = false;
  sock.send({ type: 'leave' });
  hall.pc?.close();
  hall.pc = null;
  hall.contentTx = null;
  hall.presenter = hall.content = hall.contentGets = null;
  hall.recording = null;
  showContent();
  updateShare();
  showRecording();
  stopStats();
  setStatus(0, t('hall.not_connected'));
  $('leave').classList.add('hidden');
  $('mic').disabled = true;
  $('hand').disabled = true;
  renderNext();
  announce(t('hall.left'));
}

// ---- grade from getStats: the same thresholds as the nodes (issue 7) ----

function startStats(getPc) {
  stopStats();
  hall.prev = null;
  hall.statsTimer = setInterval(async () => {
    const pc = getPc();
    if (!pc) return;
    const g = await sample(pc);
    if (g) showGrade(g);
  }, 2000);
}

function stopStats() {
  clearInterval(hall.statsTimer);
  hall.statsTimer = 0;
}

// One 2 s window: loss from inbound packets lost/received deltas, jitter of the
// inbound streams, RTT of the selected candidate pair.
async function sample(pc) {
  const st = await pc.getStats();
  let recv = 0, lost = 0, jitter = 0, rtt = null, connected = false;
  st.forEach((s) => {
    if (s.type === 'inbound-rtp') {
      recv += s.packetsReceived || 0;
      lost += Math.max(0, s.packetsLost || 0);
      jitter = Math.max(jitter, (s.jitter || 0) * 1000);
    }
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
      connected = true;
      if (s.currentRoundTripTime !== undefined) rtt = s.currentRoundTripTime * 1000;
    }
    if (s.type === 'remote-inbound-rtp' && s.roundTripTime !== undefined && rtt === null) rtt = s.roundTripTime * 1000;
  });
  const prev = hall.prev;
  hall.prev = { recv, lost };
  if (!connected || !prev) return null;
  const dr = recv - prev.recv, dl = lost - prev.lost;
  if (dr + dl <= 0) return { grade: 4, loss: 100, jitter, rtt };
  const loss = (100 * dl) / (dr + dl);
  return { grade: gradeOf(loss, jitter, rtt), loss, jitter, rtt };
}

function showGrade(g) {
  setStatus(g.grade, `${t('hall.line')}: ${gradeWords(g.grade)}`);
  $('figures').textContent = t('hall.figures', {
    loss: fmtNumber(g.loss, 1), jitter: fmtNumber(g.jitter, 0), rtt: g.rtt === null ? '–' : fmtNumber(g.rtt, 0),
  });
  window.ltLastGrade = g;
}

function setStatus(grade, words) {
  $('status').className = `status g-${gradeName(grade)}`;
  $('status-words').textContent = words;
  $('status').dataset.grade = gradeName(grade);
}

// ---- "Kiểm tra đường truyền": the echo test over the site socket ----

async function testLine() {
  if (hall.echo || hall.joined) return;
  $('echo').disabled = true;
  setStatus(0, t('hall.testing'));
  announce(t('hall.testing'));
  try {
    hall.echo = { kind: 'echo' };
    const { pc, sdp } = await offer(false);
    hall.echo.pc = pc;
    sock.send({ type: 'echo', sdp });
    startStats(() => pc);
    // five 2 s windows, then the verdict stays on screen
    let results = [];
    await new Promise((resolve) => {
      const iv = setInterval(async () => {
        if (!hall.echo) { clearInterval(iv); resolve(); return; }
        const g = window.ltLastGrade;
        if (g && g !== results.at(-1)) results.push(g);
        if (results.length >= 5) { clearInterval(iv); resolve(); }
      }, 500);
      setTimeout(() => { clearInterval(iv); resolve(); }, 16000);
    });
    if (!hall.echo) return;
    if (!results.length) { finishEcho(t('hall.echo_no_media')); return; }
    const worst = results.slice(1).reduce((a, b) => (b.grade > a.grade ? b : a), results.at(-1));
    finishEcho(`${t('hall.echo_result')}: ${gradeWords(worst.grade)}`, worst);
  } catch (err) {
    finishEcho(`${t('hall.media_failed')}: ${err.message}`);
  }
}

function finishEcho(text, g) {
  stopStats();
  hall.echo?.pc?.close();
  hall.echo = null;
  $('echo').disabled = false;
  if (g) {
    showGrade(g);
    $('status-words').textContent = text;
    announce(text, g.grade <= 2 ? 'ok' : 'error');
  } else {
    setStatus(0, text);
    announce(text, 'error');
  }
  window.ltEchoDone = { text, grade: g ? gradeName(g.grade) : null };
}

// ---- the content: this hall's screen, or another hall's shown large ----

// "Trình chiếu": enabled only while this hall holds the presenter right.
function updateShare() {
  const may = hall.joined && hall.site !== null && hall.presenter === hall.site;
  $('share').disabled = !may || !!hall.share;
  $('share-stop').classList.toggle('hidden', !hall.share);
  $('share').dataset.right = may ? '1' : '0';
}

// The screen, with the detail hint (text and slides over motion), replaces the empty
// content track in place: no new offer, so the node sees the same m-line.
async function startShare() {
  if (!hall.joined || hall.presenter !== hall.site || hall.share || !hall.contentTx) return;
  try {
    const screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
    const track = screen.getVideoTracks()[0];
    track.contentHint = 'detail';
    // the browser's own "stop sharing" ends the track: stop presenting as well
    track.addEventListener('ended', () => { if (hall.share === track) stopShare(true); });
    if (!hall.joined || hall.presenter !== hall.site) { track.stop(); return; }
    hall.share = track;
    await hall.contentTx.sender.replaceTrack(track);
    hall.starting = true;
    sock.send({ type: 'content.start' });
  } catch (err) {
    announce(`${t('hall.share_failed')}: ${err.message}`, 'error');
  }
  updateShare();
}

// Stops this hall's screen; @tell: say so to signald (not needed when signald stopped
// it: the right moved, the hall left).
function stopShare(tell) {
  const track = hall.share;
  if (!track) return;
  hall.share = null;
  hall.starting = false;
  if (tell && hall.joined) sock.send({ type: 'content.stop' });
  hall.contentTx?.sender.replaceTrack(null).catch(() => {});
  track.stop();
  updateShare();
  announce(t('hall.share_stopped'));
}

// Another hall's content is shown large, the program small beside it; none (or this
// hall's own) leaves the program alone.
function showContent() {
  const shown = hall.joined && hall.content !== null && hall.content !== hall.site && hall.contentTx;
  // at audio only the node sends stills of the content where the line has room, or
  // nothing (content.receive): then the hall says so instead of a frozen picture
  const other = shown && hall.contentGets !== 'none';
  const note = $('content-note');
  note.textContent = shown && hall.contentGets === 'stills' ? t('hall.content_stills') : '';
  note.classList.toggle('hidden', !note.textContent);
  if (shown && hall.contentGets === 'none') announce(t('hall.content_none'));
  const video = $('content');
  if (other) {
    const track = hall.contentTx.receiver.track;
    if (video.srcObject?.getTracks()[0] !== track) video.srcObject = new MediaStream([track]);
  } else video.srcObject = null;
  $('content-fig').classList.toggle('hidden', !other);
  $('videos').classList.toggle('with-content', !!other);
  return !!other;
}

// ---- the recording: the hall sees that it is on the record ----

function showRecording() {
  const st = hall.joined && hall.recording ? hall.recording : 'none';
  const badge = $('rec-badge');
  badge.dataset.state = st;
  badge.textContent = st === 'none' ? '' : t(`hall.rec_${st}`);
  badge.classList.toggle('hidden', st === 'none');
}

// ---- controls ----

$('join').addEventListener('click', join);
$('leave').addEventListener('click', leave);
$('echo').addEventListener('click', testLine);
$('share').addEventListener('click', startShare);
$('share-stop').addEventListener('click', () => stopShare(true));
$('mic').addEventListener('click', () => {
  hall.micOff = !hall.micOff;
  hall.stream?.getAudioTracks().forEach((tr) => { tr.enabled = !hall.micOff; });
  $('mic').setAttribute('aria-pressed', String(hall.micOff));
  $('mic').textContent = t(hall.micOff ? 'hall.mic_on' : 'hall.mic_off');
  announce(t(hall.micOff ? 'hall.mic_is_off' : 'hall.mic_is_on'));
});
$('hand').addEventListener('click', () => {
  hall.hand = !hall.hand;
  sock.send({ type: 'hand', raised: hall.hand });
  $('hand').setAttribute('aria-pressed', String(hall.hand));
  $('hand').textContent = t(hall.hand ? 'hall.hand_down' : 'hall.hand');
});

await loadNext();
setInterval(() => { if (!hall.joined) loadNext(); else renderNext(); }, 30000);
