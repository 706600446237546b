// A hall in a real browser, for the cascade suite: Debian's headless Chromium joins
// an occurrence through signald's site WebSocket with its fake camera and
// microphone, and prints one JSON line a second of what getStats() shows it
// received (decoded frames, audio packets, the SRTP profile). It runs until killed.
//
// Usage: node --experimental-websocket site.mjs SIGNALD-URL SITE-TOKEN OCCURRENCE-ID
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const [sig, token, occ] = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lt-site-'));
const PAGE = `<!doctype html><html lang="vi"><meta charset="utf-8"><title>Phòng họp</title>
<video id="v" autoplay muted playsinline></video><script>
window.join = async () => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  window.pc = pc;
  stream.getTracks().forEach((t) => pc.addTrack(t, stream));
  pc.ontrack = (e) => { document.getElementById('v').srcObject = e.streams[0] || new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete')
    await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
  return pc.localDescription.sdp;
};
window.answer = (sdp) => window.pc.setRemoteDescription({ type: 'answer', sdp });
window.stats = async () => {
  const out = { frames: 0, audio: 0, ice: window.pc ? window.pc.iceConnectionState : 'none' };
  if (!window.pc) return out;
  (await window.pc.getStats()).forEach((s) => {
    if (s.type === 'transport') out.srtp = s.srtpCipher;
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.frames += s.framesDecoded || 0;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audio += s.packetsReceived || 0;
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
    '--disable-sync', '--no-first-run', '--disable-gpu', '--disable-quic'],
});
const stop = async () => { await browser.close().catch(() => {}); server.close(); fs.rmSync(tmp, { recursive: true, force: true }); process.exit(0); };
process.on('SIGTERM', stop);

const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
const ws = new WebSocket(`${sig.replace('http', 'ws')}/api/v1/ws`, ['lienthong.v1', `lienthong.bearer.${token}`]);
let offer;
const join = () => ws.send(JSON.stringify({ type: 'join', occurrence_id: Number(occ), sdp: offer }));
ws.onmessage = async (e) => {
  const m = JSON.parse(e.data);
  if (m.type === 'answer') await page.evaluate((sdp) => window.answer(sdp), m.sdp);
  if (m.type === 'error') {
    console.error(`site.mjs: signald: ${m.message}`);
    setTimeout(join, 500); /* no node up yet: ask again */
  }
};
await new Promise((r) => { ws.onopen = r; });
offer = await page.evaluate(() => window.join());
join();
for (;;) {
  await new Promise((r) => setTimeout(r, 1000));
  console.log(JSON.stringify({ browser: await page.evaluate(() => window.stats()) }));
}
