// Browser suite, cc-ramp: a chair in Debian's headless Chromium sends 720p video into
// a meeting leg of the node (tests/tools/lt-cc-leg, the real McuLeg with its
// endpoints) and is the program. The node negotiates transport-cc and feeds back
// on what the chair sends, so Chromium's own estimator may ramp: its outgoing video
// (getStats: bytes sent per second) must reach 1.5 Mbit/s within 15 s of the
// answer, at 720p. The same run with transport-cc taken out of the answer must not
// reach it within 15 s (Chromium then climbs slowly from its 300 kbit/s start on
// receiver reports alone): the ramp is the feedback's doing. Prints the ramp time
// and, each second, the bitrate sent, the encoder's target, Chromium's estimate
// and the frame width.
//
// The fake camera's own pattern is too easy to encode to fill 1.5 Mbit/s, so the
// chair sends a 720p file of moving noise in 4x4 blocks (made once with GStreamer):
// hard enough to take any bitrate, cheap enough to encode at 720p on a busy machine.
//
// Usage: node cc-ramp.mjs LT-CC-LEG
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const TARGET = 1500000;
const WITHIN_MS = 15000;
const RUN_MS = 20000;
const [legPath] = process.argv.slice(2);
if (!legPath) {
  console.error('usage: node cc-ramp.mjs LT-CC-LEG');
  process.exit(2);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lt-cc-'));
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`);
  if (!ok) failures++;
};

const PAGE = `<!doctype html><html lang="vi"><meta charset="utf-8"><title>Chủ trì</title>
<script>
window.start = async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true,
    video: { width: 1280, height: 720, frameRate: 30 } });
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pc = pc;
  stream.getTracks().forEach((t) => pc.addTrack(t, stream));
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete')
    await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
  return pc.localDescription.sdp;
};
window.answer = async (sdp) => {
  await window.pc.setRemoteDescription({ type: 'answer', sdp });
  // a chair's camera stays 720p: on a busy machine Chromium would otherwise lower
  // the resolution for CPU, which says nothing about the network
  for (const s of window.pc.getSenders()) {
    if (!s.track || s.track.kind !== 'video') continue;
    const p = s.getParameters();
    p.degradationPreference = 'maintain-resolution';
    await s.setParameters(p);
  }
};
window.sent = async () => {
  const out = { bytes: 0, target: 0, available: 0, width: 0, dtls: '' };
  (await window.pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.bytes += s.bytesSent || 0;
      out.target += s.targetBitrate || 0;
      out.width = s.frameWidth || out.width;
    }
    if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate)
      out.available = s.availableOutgoingBitrate;
    if (s.type === 'transport') out.dtls = s.dtlsState;
  });
  return out;
};
</script></html>`;

// One run: a fresh leg and browser; @munge edits the node's answer before Chromium
// sees it. Returns [ms to TARGET or -1, per-second samples].
async function run(label, munge) {
  const leg = spawn(legPath, ['127.0.0.1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: leg.stdout });
  const waiting = [];
  lines.on('line', (l) => {
    const [kind, , rest] = l.split(' ');
    if (kind === 'answer' || kind === 'error' || kind === 'ready') waiting.shift()?.({ kind, rest, l });
  });
  const next = () => new Promise((r) => waiting.push(r));
  const server = http.createServer((q, s) => { s.setHeader('content-type', 'text/html; charset=utf-8'); s.end(PAGE); });
  let browser;
  try {
    await next(); // ready
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    browser = await chromium.launchPersistentContext(path.join(tmp, `chrome-${label}`), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--allow-loopback-in-peer-connection', '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-gpu', '--disable-quic',
        `--use-file-for-fake-video-capture=${path.join(tmp, 'noise.y4m')}`],
    });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const offer = await page.evaluate(() => window.start());
    leg.stdin.write(`join site:chair ${Buffer.from(offer).toString('base64')}\n`);
    const a = await next();
    if (a.kind !== 'answer') throw new Error(`no answer: ${a.l}`);
    let sdp = Buffer.from(a.rest, 'base64').toString();
    sdp = munge(sdp);
    await page.evaluate((s) => window.answer(s), sdp);
    leg.stdin.write('floor site:chair\n');
    const start = Date.now();
    const samples = [];
    let reached = -1, reachedWidth = 0;
    let prev = { t: start, bytes: 0 };
    while (Date.now() - start < RUN_MS) {
      await new Promise((r) => setTimeout(r, 1000));
      const st = await page.evaluate(() => window.sent());
      const t = Date.now();
      const bps = ((st.bytes - prev.bytes) * 8 * 1000) / (t - prev.t);
      prev = { t, bytes: st.bytes };
      samples.push({ s: Math.round((t - start) / 100) / 10, sent_kbps: Math.round(bps / 1000),
        target_kbps: Math.round(st.target / 1000), available_kbps: Math.round(st.available / 1000),
        width: st.width, dtls: st.dtls });
      if (reached < 0 && bps >= TARGET) reached = t - start;
      if (reached >= 0 && reachedWidth === 0) reachedWidth = st.width;
    }
    return [reached, samples, reachedWidth];
  } finally {
    if (browser) await browser.close();
    server.close();
    leg.stdin.end();
    leg.kill('SIGTERM');
  }
}

try {
  // 2 s of 720p moving noise at 30 frame/s, looped by Chromium
  const gst = spawnSync('gst-launch-1.0', ['-q', 'videotestsrc', 'pattern=snow', 'num-buffers=60', '!',
    'video/x-raw,format=I420,width=320,height=180,framerate=30/1', '!', 'videoscale', 'method=nearest-neighbour', '!',
    'video/x-raw,width=1280,height=720', '!', 'y4menc', '!',
    'filesink', `location=${path.join(tmp, 'noise.y4m')}`]);
  if (gst.status !== 0) throw new Error(`cannot make the noise file: ${gst.stderr}`);

  const [reached, samples, width] = await run('cc', (s) => s);
  for (const x of samples) console.log(`transport-cc: ${JSON.stringify(x)}`);
  console.log(`ramp_to_1500_kbps_ms: ${reached} (transport-cc fed back by the node)`);
  check(width === 1280, `at 720p (${width} wide when it got there)`);
  check(reached >= 0 && reached <= WITHIN_MS,
    `the chair's 720p video reached 1.5 Mbit/s ${reached < 0 ? 'never' : `after ${reached} ms`} (within ${WITHIN_MS} ms)`);

  // the control: the same answer without transport-cc (nor its extension)
  const strip = (s) => s.split('\r\n').filter((l) => !/transport-cc|transport-wide-cc/.test(l)).join('\r\n');
  const [creached, csamples] = await run('none', strip);
  for (const x of csamples) console.log(`no feedback: ${JSON.stringify(x)}`);
  console.log(`ramp_to_1500_kbps_ms_without_transport_cc: ${creached}`);
  // the ramp is the node's feedback's doing: without it Chromium stays slow
  check(creached < 0 || creached > WITHIN_MS,
    `without transport-cc the chair did not reach 1.5 Mbit/s within ${WITHIN_MS} ms (${creached} ms)`);
  const last = (xs) => xs[xs.length - 1] || {};
  console.log(`after ${RUN_MS / 1000} s: sent ${last(samples).sent_kbps} kbit/s with transport-cc, `
    + `${last(csamples).sent_kbps} kbit/s without`);
} catch (e) {
  console.error(e);
  failures++;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
