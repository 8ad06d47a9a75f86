// Tuning: edit a profile's YAML, check it with the service's own loader (errors with their
// line), see the diff against the file, apply it through hold, save it (the old file kept as
// .bak), pin a profile whatever the car.
import { api, say } from './app.js';

const $ = (id) => document.getElementById(id);

export class Tuning {
  constructor() {
    this.loaded = false;
    this.file = '';
    this.original = '';
    $('profile-select').addEventListener('change', () => this.open($('profile-select').value));
    $('profile-check').addEventListener('click', () => this.check());
    $('profile-apply').addEventListener('click', () => this.send('POST', '/api/profile/apply', 'applied through hold'));
    $('profile-save').addEventListener('click', () => this.send('PUT', `/api/profiles/${encodeURIComponent(this.file)}`, 'saved'));
    $('profile-revert').addEventListener('click', () => {
      $('profile-text').value = this.original;
      this.check();
    });
  }

  async show() {
    if (this.loaded) return;
    this.loaded = true;
    await this.list();
  }

  async list() {
    const r = await api('GET', '/api/profiles');
    if (!r.ok) return say(`profiles: ${r.data.error}`, 'bad');
    const sel = $('profile-select');
    sel.innerHTML = '';
    for (const f of r.data.files) {
      const o = document.createElement('option');
      o.value = f.name;
      const cars = [...f.gt7CarCodes.map((c) => `GT7 ${c}`), ...f.f1TeamIds.map((c) => `F1 team ${c}`)].join(', ');
      o.textContent = `${f.name} · ${f.title}${f.base ? ' (base)' : cars ? ` (${cars})` : ''}`;
      sel.append(o);
    }
    sel.value = r.data.runningFile;
    this.showRunning(r.data);
    await this.open(sel.value);
  }

  showRunning(d) {
    const el = $('profile-active');
    el.innerHTML = '';
    el.append(`running: ${d.running} (${d.runningFile})${d.pinned ? ' · pinned' : ' · chosen by car'} `);
    const b = document.createElement('button');
    b.id = 'profile-pin';
    b.textContent = d.pinned ? 'Choose by car again' : 'Pin the selected profile';
    b.addEventListener('click', async () => {
      const r = await api('POST', '/api/profile/pin', { name: d.pinned ? null : this.file });
      if (!r.ok) return say(`pin refused (${r.status}): ${r.data.error}`, 'bad');
      say(`running ${r.data.running}`, 'ok');
      this.showRunning(r.data);
    });
    el.append(b);
  }

  async open(name) {
    const r = await api('GET', `/api/profiles/${encodeURIComponent(name)}`);
    if (!r.ok) return say(`${name}: ${r.data.error}`, 'bad');
    this.file = name;
    this.original = r.data.text;
    $('profile-text').value = r.data.text;
    $('profile-errors').innerHTML = '';
    $('profile-diff').innerHTML = '';
  }

  async check() {
    const r = await api('POST', '/api/profile/check', { name: this.file, text: $('profile-text').value });
    if (!r.ok) return say(`check: ${r.data.error}`, 'bad');
    this.showProblems(r.data.problems);
    this.showDiff(r.data.diff);
    return r.data.ok;
  }

  async send(method, path, done) {
    const r = await api(method, path, { name: this.file, text: $('profile-text').value });
    if (r.ok) {
      say(`${this.file}: ${done}${r.data.backup ? ` (old file kept as ${r.data.backup})` : ''}; running ${r.data.running}`, 'ok');
      this.showProblems([]);
      if (method === 'PUT') this.original = $('profile-text').value;
      this.showRunning(r.data);
      await this.check();
    } else {
      say(`${this.file}: not ${done} (${r.status}): ${r.data.error}`, 'bad');
      if (r.data.problems) this.showProblems(r.data.problems);
    }
  }

  showProblems(problems) {
    const ul = $('profile-errors');
    ul.innerHTML = '';
    if (problems.length === 0) {
      const li = document.createElement('li');
      li.className = 'ok';
      li.textContent = 'valid';
      ul.append(li);
      return;
    }
    for (const p of problems) {
      const li = document.createElement('li');
      li.textContent = p.line !== null ? `line ${p.line}: ${p.key || '(top level)'}: ${p.reason}` : `${p.file}: ${p.key || '(top level)'}: ${p.reason}`;
      li.dataset.line = p.line ?? '';
      li.addEventListener('click', () => this.goToLine(p.line));
      ul.append(li);
    }
  }

  goToLine(line) {
    if (!line) return;
    const ta = $('profile-text');
    const lines = ta.value.split('\n');
    const start = lines.slice(0, line - 1).join('\n').length + (line > 1 ? 1 : 0);
    ta.focus();
    ta.setSelectionRange(start, start + (lines[line - 1] ?? '').length);
  }

  showDiff(diff) {
    const pre = $('profile-diff');
    pre.innerHTML = '';
    const changed = diff.some((d) => d.op !== ' ');
    if (!changed) {
      pre.textContent = 'no change against the file';
      return;
    }
    diff.forEach((d, i) => {
      // Changes with two lines of context; long unchanged runs folded.
      const near = diff.slice(Math.max(0, i - 2), i + 3).some((x) => x.op !== ' ');
      if (d.op === ' ' && !near) return;
      const span = document.createElement('div');
      span.className = d.op === '+' ? 'add' : d.op === '-' ? 'del' : '';
      span.textContent = `${d.op} ${d.text}`;
      pre.append(span);
    });
  }

}
