// Browser suite, echo: Debian's headless Chromium, with its fake camera and
// microphone, tests its line as a commune hall would: its offer goes over the site
// WebSocket of a real lienthong-signald to the lienthong-mcu node that registered
// with it, and the answer comes back the same way. Within 10 s getStats() must show
// ICE connected, DTLS connected, an SRTP profile, video frames decoded and audio
// packets received. It does this 20 times and prints the node's time to first media
// (offer received -> first decrypted RTP), median of 20.
//
// Usage: node --experimental-websocket echo.mjs LIENTHONG-SIGNALD LIENTHONG-MCU UNITS.csv
//        [SCREENSHOT.png]
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const RUNS = 20;
const [signaldPath, mcuPath, unitsCsv, shot] = process.argv.slice(2);
if (!unitsCsv) {
  console.error('usage: node --experimental-websocket echo.mjs LIENTHONG-SIGNALD LIENTHONG-MCU UNITS.csv [SCREENSHOT.png]');
  process.exit(2);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lt-browser-'));
let node, signald, browser, server;
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`);
  if (!ok) failures++;
};

async function waitFor(file, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim()) return fs.readFileSync(file, 'utf8').trim();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${file} never appeared`);
}

// The page: no network access of its own; the test relays SDP between it and the node.
const PAGE = `<!doctype html><html lang="vi"><meta charset="utf-8">
<title>Kiểm tra đường truyền</title><video id="v" autoplay muted playsinline></video>
<script>
window.startEcho = async () => {
  if (window.pc) window.pc.close();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pc = pc;
  stream.getTracks().forEach((t) => pc.addTrack(t, stream));
  pc.ontrack = (e) => { document.getElementById('v').srcObject = e.streams[0] || new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete')
    await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
  return pc.localDescription.sdp;
};
window.applyAnswer = (sdp) => window.pc.setRemoteDescription({ type: 'answer', sdp });
window.readStats = async () => {
  const out = { ice: window.pc.iceConnectionState, frames: 0, audioPackets: 0 };
  (await window.pc.getStats()).forEach((s) => {
    if (s.type === 'transport') { out.dtls = s.dtlsState; out.srtp = s.srtpCipher; out.iceTransport = s.iceState; }
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.frames = s.framesDecoded || 0;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPackets = s.packetsReceived || 0;
  });
  return out;
};
</script></html>`;

// One call to signald's API as admin.
async function api(sig, admin, method, p, body, type = 'application/json') {
  const res = await fetch(`${sig}${p}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': type }, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// The site's side of the WebSocket: one echo request at a time, answer awaited.
function siteSocket(sig, token) {
  const ws = new WebSocket(`${sig.replace('http', 'ws')}/api/v1/ws`, ['lienthong.v1', `lienthong.bearer.${token}`]);
  const waiting = [];
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === 'answer' || m.type === 'error') waiting.shift()?.(m);
  };
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve({
      echo: (sdp) => new Promise((r) => { waiting.push(r); ws.send(JSON.stringify({ type: 'echo', sdp })); }),
      close: () => ws.close(),
    });
    ws.onerror = () => reject(new Error('site socket failed'));
  });
}

let site;
try {
  const sdir = path.join(tmp, 'signald'), ndir = path.join(tmp, 'node');
  fs.mkdirSync(sdir); fs.mkdirSync(ndir);
  signald = spawn(signaldPath, ['--listen', '127.0.0.1:0', '--state-dir', sdir], { stdio: ['ignore', 'ignore', 'pipe'] });
  signald.stderr.on('data', (d) => process.stderr.write(d));
  const sig = `http://${await waitFor(path.join(sdir, 'signald.addr'), 10000)}`;
  const admin = fs.readFileSync(path.join(sdir, 'admin.token'), 'utf8').trim();
  await api(sig, admin, 'POST', '/api/v1/units/import', fs.readFileSync(unitsCsv), 'text/csv');
  const nodeToken = (await api(sig, admin, 'POST', '/api/v1/tokens', JSON.stringify({ role: 'node', scope: 'node-vn', unit: 'VN' }))).token;
  fs.writeFileSync(path.join(ndir, 'node.token'), nodeToken);
  // --http only to read the node's own time-to-first-media figures
  node = spawn(mcuPath, ['--signald', sig, '--node-id', 'node-vn', '--unit', 'VN', '--token-file', path.join(ndir, 'node.token'),
    '--http', '127.0.0.1:0', '--state-dir', ndir, '--address', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  node.stderr.on('data', (d) => process.stderr.write(d));
  const base = `http://${await waitFor(path.join(ndir, 'mcu-http.addr'), 10000)}`;
  for (let i = 0; i < 100; i++) {
    const nodes = await api(sig, admin, 'GET', '/api/v1/nodes');
    if (nodes.nodes.some((n) => n.state === 'up')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // a commune hall: Xã Tân Trào (02545) and its default site
  const unit = await api(sig, admin, 'GET', '/api/v1/units/02545');
  const siteToken = (await api(sig, admin, 'POST', '/api/v1/tokens', JSON.stringify({ role: 'site', scope: String(unit.sites[0].id) }))).token;
  site = await siteSocket(sig, siteToken);

  server = http.createServer((req, res) => { res.setHeader('content-type', 'text/html; charset=utf-8'); res.end(PAGE); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const pageUrl = `http://127.0.0.1:${server.address().port}/`;

  browser = await chromium.launchPersistentContext(path.join(tmp, 'chrome'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: ['--no-sandbox', '--allow-loopback-in-peer-connection', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-gpu', '--disable-quic'],
  });
  const page = await browser.newPage();
  await page.goto(pageUrl);

  const firstMedia = [];
  for (let run = 1; run <= RUNS; run++) {
    const offer = await page.evaluate(() => window.startEcho());
    const answer = await site.echo(offer);
    if (answer.type !== 'answer') throw new Error(`echo refused: ${JSON.stringify(answer)}`);
    await page.evaluate((sdp) => window.applyAnswer(sdp), answer.sdp);
    const start = Date.now();
    let st;
    for (;;) {
      st = await page.evaluate(() => window.readStats());
      if (st.dtls === 'connected' && st.frames > 0 && st.audioPackets > 0) break;
      if (Date.now() - start > 10000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (run === 1 || run === RUNS) {
      check(['connected', 'completed'].includes(st.ice), `run ${run}: ICE ${st.ice}`);
      check(st.dtls === 'connected', `run ${run}: DTLS ${st.dtls}`);
      check(/AEAD_AES_128_GCM|AES128_CM_HMAC_SHA1_80/.test(st.srtp || ''), `run ${run}: SRTP profile ${st.srtp}`);
      check(st.frames > 0, `run ${run}: ${st.frames} video frames decoded from the echo`);
      check(st.audioPackets > 0, `run ${run}: ${st.audioPackets} audio packets received from the echo`);
      if (run === 1 && shot) {
        await page.waitForTimeout(500);
        await page.screenshot({ path: shot });
      }
    } else if (!(st.dtls === 'connected' && st.frames > 0 && st.audioPackets > 0)) {
      check(false, `run ${run}: no media within 10 s (${JSON.stringify(st)})`);
    }
    const stats = await (await fetch(`${base}/api/v1/echo/stats`)).json();
    firstMedia.push(...stats.first_media_ms.slice(-1));
    await page.evaluate(() => { window.pc.close(); window.pc = null; });
  }
  firstMedia.sort((a, b) => a - b);
  const median = firstMedia[Math.floor(firstMedia.length / 2)];
  console.log(`time_to_first_media_median: ${median} ms (node side, offer to first decrypted RTP, ${firstMedia.length} runs; min ${firstMedia[0]}, max ${firstMedia[firstMedia.length - 1]})`);
  check(firstMedia.length === RUNS, `${firstMedia.length} of ${RUNS} runs measured`);
} catch (e) {
  console.error(e);
  failures++;
} finally {
  if (site) site.close();
  if (browser) await browser.close();
  if (server) server.close();
  if (node) node.kill('SIGTERM');
  if (signald) signald.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
