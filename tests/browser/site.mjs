// A hall in a real browser, for the cascade suite: Debian's headless Chromium joins
// an occurrence through signald's site WebSocket with its fake camera and
// microphone, and prints one JSON line a second of what getStats() shows it
// received (decoded frames, audio packets, the SRTP profile) and sent (its video's
// bytes, bit rate over the last second, frame size and rate, what limits its
// quality, the capture size). It runs until killed.
//
// With LT_SITE_CONTENT=1 the hall also has the content transceiver (a second video
// m-line, sendrecv, no track until it presents), reports what it decodes there
// (content_frames, content_size) and takes commands on its standard input:
// "present" shares a 1280x720 canvas (contentHint "detail", 5 fps) on it and sends
// content.start; "stop" sends content.stop and takes the track off. signald's
// content, presenter, content.ok and error messages are printed as {"event":..}
// lines. LT_SITE_REPORT_MS sets how often stats are printed (default 1000).
//
// Usage: node --experimental-websocket site.mjs SIGNALD-URL SITE-TOKEN OCCURRENCE-ID [WxH [FILE.y4m]]
// WxH: the camera's size (default 320x240); 1280x720 for a chair sending 720p
// (Chromium's fake camera gives any size asked for exactly). FILE.y4m: what the
// fake camera shows instead of its own nearly still picture (which its encoder
// sends in a fraction of the bit rate it is allowed); its size must be WxH.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const [sig, token, occ, size = '320x240', cameraFile] = process.argv.slice(2);
const withContent = process.env.LT_SITE_CONTENT === '1';
const reportMs = Number(process.env.LT_SITE_REPORT_MS || 1000);
const [camW, camH] = size.split('x').map(Number);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lt-site-'));
const PAGE = `<!doctype html><html lang="vi"><meta charset="utf-8"><title>Phòng họp</title>
<video id="v" autoplay muted playsinline></video><script>
window.join = async (w, h, withContent) => {
  window.tJoin = performance.now();
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: { exact: w }, height: { exact: h }, frameRate: 30 } });
  const cs = stream.getVideoTracks()[0].getSettings();
  window.capture = cs.width + 'x' + cs.height;
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pc = pc;
  stream.getTracks().forEach((t) => pc.addTrack(t, stream));
  if (withContent) window.content = pc.addTransceiver('video', { direction: 'sendrecv' });
  pc.ontrack = (e) => {
    if (window.content && e.transceiver === window.content) return;
    const v = document.getElementById('v');
    v.srcObject = e.streams[0] || new MediaStream([e.track]);
    // the time from join() to the first program frame shown (join time)
    if (e.track.kind === 'video' && v.requestVideoFrameCallback)
      v.requestVideoFrameCallback((now) => { window.firstFrameMs = now - window.tJoin; });
  };
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete')
    await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
  return pc.localDescription.sdp;
};
window.answer = (sdp) => window.pc.setRemoteDescription({ type: 'answer', sdp });
// a screen stand-in: a 1280x720 canvas that changes every 200 ms
window.present = async () => {
  const c = document.createElement('canvas');
  c.width = 1280; c.height = 720;
  const g = c.getContext('2d');
  let n = 0;
  window.slides = setInterval(() => {
    g.fillStyle = 'hsl(' + ((n * 37) % 360) + ' 60% 50%)'; g.fillRect(0, 0, 1280, 720);
    g.fillStyle = '#fff'; g.font = '96px sans-serif'; g.fillText('Trang ' + (++n), 100, 360);
  }, 200);
  const track = c.captureStream(5).getVideoTracks()[0];
  track.contentHint = 'detail';
  await window.content.sender.replaceTrack(track);
};
window.unpresent = async () => {
  clearInterval(window.slides);
  const t = window.content.sender.track;
  await window.content.sender.replaceTrack(null);
  if (t) t.stop();
};
let prevSent = null;
window.stats = async () => {
  const out = { frames: 0, audio: 0, ice: window.pc ? window.pc.iceConnectionState : 'none', capture: window.capture,
    first_frame_ms: window.firstFrameMs ? Math.round(window.firstFrameMs) : -1 };
  if (!window.pc) return out;
  const report = await window.pc.getStats();
  report.forEach((s) => {
    if (s.type === 'transport') out.srtp = s.srtpCipher;
    const isContent = window.content && window.content.receiver.track && s.trackIdentifier === window.content.receiver.track.id;
    if (s.type === 'inbound-rtp' && s.kind === 'video' && isContent) {
      out.content_frames = s.framesDecoded || 0;
      out.content_size = (s.frameWidth || 0) + 'x' + (s.frameHeight || 0);
    } else if (s.type === 'inbound-rtp' && s.kind === 'video') out.frames += s.framesDecoded || 0;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audio += s.packetsReceived || 0;
    if (s.type === 'outbound-rtp' && s.kind === 'video') {
      out.vout_bytes = s.bytesSent || 0;
      out.vout_size = (s.frameWidth || 0) + 'x' + (s.frameHeight || 0);
      out.vout_fps = s.framesPerSecond || 0;
      out.vout_target_kbps = Math.round((s.targetBitrate || 0) / 1000);
      out.vout_limit = s.qualityLimitationReason;
      out.vout_nacks = s.nackCount || 0;
      out.vout_rtx = s.retransmittedPacketsSent || 0;
      // the bit rate over the last second, from the stats' own timestamps
      if (prevSent && s.timestamp > prevSent.t)
        out.vout_kbps = Math.round(((s.bytesSent - prevSent.b) * 8) / (s.timestamp - prevSent.t));
      prevSent = { b: s.bytesSent, t: s.timestamp };
    }
    if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate)
      out.bwe_kbps = Math.round(s.availableOutgoingBitrate / 1000);
  });
  return out;
};
</script></html>`;

const server = http.createServer((q, s) => { s.setHeader('content-type', 'text/html; charset=utf-8'); s.end(PAGE); });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launchPersistentContext(path.join(tmp, 'chrome'), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--allow-loopback-in-peer-connection', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-gpu', '--disable-quic',
    ...(cameraFile ? [`--use-file-for-fake-video-capture=${cameraFile}`] : [])],
});
const stop = async () => { await browser.close().catch(() => {}); server.close(); fs.rmSync(tmp, { recursive: true, force: true }); process.exit(0); };
process.on('SIGTERM', stop);

const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
const ws = new WebSocket(`${sig.replace('http', 'ws')}/api/v1/ws`, ['lienthong.v1', `lienthong.bearer.${token}`]);
let offer, joined = false;
const join = () => ws.send(JSON.stringify({ type: 'join', occurrence_id: Number(occ), sdp: offer }));
ws.onmessage = async (e) => {
  const m = JSON.parse(e.data);
  if (m.type === 'joined') joined = true;
  if (m.type === 'answer') await page.evaluate((sdp) => window.answer(sdp), m.sdp);
  if (['content', 'presenter', 'content.ok', 'error'].includes(m.type)) console.log(JSON.stringify({ event: m }));
  if (m.type === 'error' && !joined) {
    console.error(`site.mjs: signald: ${m.message}`);
    setTimeout(join, 500); /* no node up yet: ask again */
  }
};
await new Promise((r) => { ws.onopen = r; });
offer = await page.evaluate(([w, h, c]) => window.join(w, h, c), [camW, camH, withContent]);
join();
if (withContent) {
  let lines = '';
  process.stdin.on('data', async (d) => {
    lines += d;
    let i;
    while ((i = lines.indexOf('\n')) >= 0) {
      const cmd = lines.slice(0, i).trim();
      lines = lines.slice(i + 1);
      if (cmd === 'present') {
        await page.evaluate(() => window.present());
        ws.send(JSON.stringify({ type: 'content.start' }));
      } else if (cmd === 'stop') {
        ws.send(JSON.stringify({ type: 'content.stop' }));
        await page.evaluate(() => window.unpresent());
      }
    }
  });
}
for (;;) {
  await new Promise((r) => setTimeout(r, reportMs));
  console.log(JSON.stringify({ browser: await page.evaluate(() => window.stats()) }));
}
