// motion-rig page: live status over server-sent events (/api/live), controls over the API.
// Plain ES modules, no framework; every asset comes from the service itself (no CDN).
import { RigView } from './rig3d.js';
import { Plots } from './plots.js';
import { Tuning } from './tuning.js';
import { Recordings } from './recordings.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'motion-rig-token';

/** fetch for the API: JSON in and out, the token (if any) as Authorization: Bearer. */
export async function api(method, path, body) {
  const headers = { 'content-type': 'application/json' };
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data;
  try {
    data = await res.json();
  } catch {
    data = { error: `HTTP ${res.status}` };
  }
  return { ok: res.ok, status: res.status, data };
}

export function say(text, kind = '') {
  const m = $('message');
  m.textContent = text;
  m.className = kind;
}

// ---- controls -----------------------------------------------------------------------------
async function command(name) {
  const r = await api('POST', `/api/${name}`);
  if (r.ok) say(`${name}: sent`, 'ok');
  else say(`${name} refused (${r.status}): ${r.data.error}`, 'bad');
}
// E-STOP acts on the press, not the release (a click fires on release), and a keyboard or
// assistive click still works; one press sends one request.
let estopPressed = false;
$('estop').addEventListener('pointerdown', () => {
  estopPressed = true;
  command('estop');
});
$('estop').addEventListener('click', () => {
  if (!estopPressed) command('estop');
  estopPressed = false;
});
$('park').addEventListener('click', () => command('park'));
$('unpark').addEventListener('click', () => command('unpark'));
$('clear-estop').addEventListener('click', () => command('clear-estop'));

const tokenInput = $('token');
tokenInput.value = localStorage.getItem(TOKEN_KEY) ?? '';
const showToken = () => ($('token-state').textContent = tokenInput.value ? ' saved in this browser' : ' none: watch and stop only');
showToken();
tokenInput.addEventListener('change', () => {
  if (tokenInput.value.trim()) localStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
  else localStorage.removeItem(TOKEN_KEY);
  showToken();
});

// ---- tabs ---------------------------------------------------------------------------------
const tabs = ['live', 'rig', 'signals', 'tuning', 'recordings'];
let current = 'live';
function showTab() {
  current = tabs.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'live';
  for (const t of tabs) {
    $(`tab-${t}`).classList.toggle('active', t === current);
    document.querySelector(`nav a[data-tab="${t}"]`).classList.toggle('active', t === current);
  }
  if (current === 'tuning') tuning.show();
  if (current === 'recordings') recordings.show();
  if (current === 'rig') rig.resize();
  if (current === 'signals') plots.resize();
}
window.addEventListener('hashchange', showTab);

// ---- live values --------------------------------------------------------------------------
const us = (x) => (Number.isFinite(x) ? `${Math.round(x)} µs` : '–');
const FIELDS = [
  ['state', (s) => s.state], ['cause', (s) => s.cause], ['hold reason', (s) => (s.state === 'hold' ? s.holdReason : `(${s.holdReason})`)],
  ['engagement', (s) => s.engagement.toFixed(3)], ['e-stop', (s) => (s.estop.trigger ? 'TRIGGER PRESENT' : 'armed')],
  ['park requested', (s) => (s.parkRequested ? 'yes (unpark to run)' : 'no')],
  ['link', (s) => `${s.link.type} ${s.link.state}${s.link.loss !== 'none' ? ` (lost: ${s.link.loss})` : ''}`], ['MCU', (s) => `${s.link.mcu}${s.link.firmware ? ` · ${s.link.firmware}` : ''}`],
  ['telemetry', (s) => `${s.telemetry.source}, ${s.telemetry.ratePerS.toFixed(1)} /s`], ['car', (s) => String(s.telemetry.carId)], ['profile', (s) => s.telemetry.profile],
  ['tick', (s) => `${s.loop.tick} @ ${s.loop.rateHz} Hz`], ['tick lateness p50 / p99', (s) => `${us(s.loop.latenessP50Us)} / ${us(s.loop.latenessP99Us)}`],
  ['late / skipped ticks', (s) => `${s.loop.lateTicks} / ${s.loop.skippedTicks}`], ['packet→frame p50 / p99', (s) => `${us(s.latency.p50Us)} / ${us(s.latency.p99Us)}`],
  ['frames written', (s) => String(s.output.framesWritten)], ['write errors', (s) => String(s.output.writeErrors)], ['bad frames / bad STATUS', (s) => `${s.link.badFrames} / ${s.link.badStatus}`],
  ['last command', (s) => s.output.lastCommand], ['reconnects', (s) => String(s.link.reconnects)], ['IK scale', (s) => s.scale.toFixed(3)],
  ['config', (s) => (s.config.lastError ? `last change refused: ${s.config.lastError.split('\n')[0]}` : 'ok')],
];
const cells = FIELDS.map(([label]) => {
  const div = document.createElement('div');
  const dt = document.createElement('dt');
  const dd = document.createElement('dd');
  dt.textContent = label;
  dd.dataset.field = label;
  div.append(dt, dd);
  $('live-values').append(div);
  return dd;
});

function render(s) {
  const st = $('state');
  st.textContent = s.state;
  st.className = `state ${s.state}`;
  $('state-detail').textContent = `cause ${s.cause}${s.state === 'hold' ? ` · holding: ${s.holdReason}` : ''} · ${s.telemetry.profile}`;
  $('engagement').textContent = s.engagement.toFixed(2);
  $('engagement-bar').style.width = `${Math.round(s.engagement * 100)}%`;
  $('clear-estop').disabled = s.state !== 'estop';
  $('unpark').disabled = !s.parkRequested;
  FIELDS.forEach(([, f], i) => {
    const text = f(s);
    if (cells[i].textContent !== text) cells[i].textContent = text;
  });
}

// ---- the stream ---------------------------------------------------------------------------
const rig = new RigView($('rig-view'), $('actuator-bars'), $('ik-scale'));
const plots = new Plots($('plots'));
const tuning = new Tuning();
const recordings = new Recordings(tuning);
let lastFrameAt = 0;
let plotsAt = 0;
let frames = 0;

function connect() {
  const es = new EventSource('/api/live');
  es.onmessage = (ev) => {
    const f = JSON.parse(ev.data);
    frames++;
    lastFrameAt = performance.now();
    render(f.status);
    // Only the visible tab draws (a phone's battery, and a busy laptop, thank it); plots at most 10 times a second.
    rig.update(f.status, f.points, current === 'rig');
    plots.push(f.points);
    if (current === 'signals' && performance.now() - plotsAt >= 100) {
      plotsAt = performance.now();
      plots.draw();
    }
  };
  es.onerror = () => {
    $('conn').textContent = 'reconnecting…';
    $('conn').className = 'conn bad';
  };
}
let framesAtLast = 0;
setInterval(() => {
  const fresh = performance.now() - lastFrameAt < 1000;
  const c = $('conn');
  c.textContent = fresh ? `live ${frames - framesAtLast} frames/s` : 'no data';
  c.className = `conn ${fresh ? 'ok' : 'bad'}`;
  c.dataset.rate = String(frames - framesAtLast);
  c.dataset.frames = String(frames);
  framesAtLast = frames;
}, 1000);

fetch('/api/rig')
  .then((r) => r.json())
  .then((g) => rig.build(g))
  .catch((e) => say(`rig view: ${e.message}`, 'bad'));
showTab();
connect();
