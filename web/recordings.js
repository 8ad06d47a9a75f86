// Recordings: start/stop a recording of the telemetry the service receives, list them, and run
// the report on one: the running profile (A) against the Tuning editor's text (B), with the
// report's own table and SVG plot (src/report via `motion-rig report --compare`).
import { api, say } from './app.js';

const $ = (id) => document.getElementById(id);

export class Recordings {
  constructor(tuning) {
    this.tuning = tuning;
    $('rec-start').addEventListener('click', () => this.command('start'));
    $('rec-stop').addEventListener('click', () => this.command('stop'));
  }

  async show() {
    await this.tuning.show();
    await this.list();
  }

  async command(what) {
    const r = await api('POST', `/api/recordings/${what}`);
    if (!r.ok) return say(`recording ${what} refused (${r.status}): ${r.data.error}`, 'bad');
    say(what === 'start' ? `recording ${r.data.recording.name}` : `recorded ${r.data.stopped}: ${r.data.packets} packets`, 'ok');
    await this.list();
  }

  async list() {
    const r = await api('GET', '/api/recordings');
    if (!r.ok) return say(`recordings: ${r.data.error}`, 'bad');
    const rec = r.data.recording;
    const failed = r.data.failed;
    $('rec-state').textContent = rec
      ? `recording ${rec.name}: ${rec.packets} packets${rec.dropped ? ` (${rec.dropped} dropped: the disk is slow)` : ''}, ${rec.seconds} s`
      : failed ? `recording ${failed.name} stopped at ${failed.at}: ${failed.error}` : `folder ${r.data.dir}`;
    $('rec-state').classList.toggle('bad', !rec && !!failed);
    const body = document.querySelector('#rec-list tbody');
    body.innerHTML = '';
    for (const f of r.data.files) {
      const tr = document.createElement('tr');
      for (const text of [f.name, `${(f.bytes / 1024).toFixed(0)} KiB`, new Date(f.modified).toLocaleString()]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      const td = document.createElement('td');
      const b = document.createElement('button');
      b.textContent = 'Report: running vs edited';
      b.dataset.recording = f.name;
      b.addEventListener('click', () => this.report(f.name));
      td.append(b);
      tr.append(td);
      body.append(tr);
    }
  }

  async report(name) {
    const out = $('report');
    out.textContent = `running the report on ${name} (the control tick over the whole recording, twice)…`;
    const r = await api('POST', '/api/report', { recording: name, profile: this.tuning.file, text: $('profile-text').value });
    if (!r.ok) {
      out.textContent = '';
      return say(`report refused (${r.status}): ${r.data.error}`, 'bad');
    }
    out.innerHTML = '';
    const h = document.createElement('h3');
    h.textContent = `score: running ${r.data.scores.a.toFixed(1)} · edited ${r.data.scores.b.toFixed(1)} (of 100)`;
    const pre = document.createElement('pre');
    pre.textContent = r.data.table;
    const img = document.createElement('img');
    img.alt = 'report plot';
    img.src = URL.createObjectURL(new Blob([r.data.svg], { type: 'image/svg+xml' }));
    img.style.maxWidth = '100%';
    img.style.background = '#fff';
    out.append(h, img, pre);
    say(`report on ${name} done`, 'ok');
  }
}
