/**
 * Template output for existing controllers, in the style rig owners know from SimTools and
 * FlyPT Mover: a template string with placeholders `<Axis1a>`…`<Axis8a>` (the axis value),
 * literal bytes `<255>`, and start/stop strings, at a bit depth of 8–24 bits written as
 * big-endian binary, decimal or hex text.
 *
 * There is no feedback on this path: no handshake, no STATUS, no watchdog we can rely on.
 * Everything that keeps the seat safe is on our side (supervisor, limiter) — see
 * docs/output.md.
 */

export type TemplateFormat = 'binary' | 'decimal' | 'hex';

export interface TemplateOptions {
  template: string;
  bits: number;
  format: TemplateFormat;
  start?: string;
  stop?: string;
}

/** Compiled: literal bytes, or an axis (index) to be formatted. */
type Segment = { bytes: Uint8Array } | { axis: number };

export class TemplateError extends Error {}

function compile(text: string, what: string): Segment[] {
  const out: Segment[] = [];
  const literal: number[] = [];
  const flush = () => {
    if (literal.length) out.push({ bytes: Uint8Array.from(literal) });
    literal.length = 0;
  };
  const re = /<([^<>]*)>/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    for (const b of Buffer.from(text.slice(last, m.index), 'latin1')) literal.push(b);
    last = re.lastIndex;
    const tag = m[1]!;
    const axis = /^Axis([1-8])a$/.exec(tag);
    if (axis) {
      flush();
      out.push({ axis: Number(axis[1]) - 1 });
    } else if (/^\d{1,3}$/.test(tag) && Number(tag) <= 255) literal.push(Number(tag));
    else throw new TemplateError(`${what}: unknown placeholder <${tag}> (use <Axis1a>…<Axis8a> or a byte <0>…<255>)`);
  }
  for (const b of Buffer.from(text.slice(last), 'latin1')) literal.push(b);
  flush();
  return out;
}

export class TemplateEncoder {
  /** Highest axis number the template uses (1-based), i.e. how many values it needs. */
  readonly axes: number;
  readonly frame: Uint8Array;
  private readonly segments: Segment[];
  private readonly max: number;
  private readonly format: TemplateFormat;
  private readonly width: number;

  constructor(opts: TemplateOptions) {
    if (!Number.isInteger(opts.bits) || opts.bits < 8 || opts.bits > 24) throw new TemplateError(`bits must be 8..24 (got ${opts.bits})`);
    this.segments = [...compile(opts.start ?? '', 'start'), ...compile(opts.template, 'template'), ...compile(opts.stop ?? '', 'stop')];
    this.axes = Math.max(0, ...this.segments.map((s) => ('axis' in s ? s.axis + 1 : 0)));
    this.max = 2 ** opts.bits - 1;
    this.format = opts.format;
    // Bytes per value: binary ceil(bits/8); hex zero-padded to ceil(bits/4) digits; decimal up to 8 digits.
    this.width = opts.format === 'binary' ? Math.ceil(opts.bits / 8) : opts.format === 'hex' ? Math.ceil(opts.bits / 4) : String(this.max).length;
    let size = 0;
    for (const s of this.segments) size += 'bytes' in s ? s.bytes.length : this.width;
    this.frame = new Uint8Array(size);
  }

  /** The integer sent for a normalised position 0..1 (0 = minimum, 1 = maximum); NaN gives the centre. */
  level(value: number): number {
    const v = value !== value ? 0.5 : value < 0 ? 0 : value > 1 ? 1 : value;
    return Math.round(v * this.max);
  }

  /** values[i] in 0..1 for Axis(i+1). Writes into `frame`; returns the length. Allocation-free. */
  encode(values: Float64Array): number {
    const f = this.frame;
    let o = 0;
    for (let k = 0; k < this.segments.length; k++) {
      const s = this.segments[k]!;
      if ('bytes' in s) {
        f.set(s.bytes, o);
        o += s.bytes.length;
        continue;
      }
      const n = this.level(values[s.axis]!);
      if (this.format === 'binary') {
        for (let b = this.width - 1; b >= 0; b--) f[o++] = (n >>> (8 * b)) & 0xff;
      } else if (this.format === 'hex') {
        for (let d = this.width - 1; d >= 0; d--) {
          const nibble = (n >>> (4 * d)) & 0xf;
          f[o++] = nibble < 10 ? 48 + nibble : 55 + nibble;
        }
      } else {
        // Decimal without leading zeros, as SimTools sends it.
        let digits = 1;
        for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
        for (let d = digits - 1, t = n; d >= 0; d--, t = Math.floor(t / 10)) f[o + d] = 48 + (t % 10);
        o += digits;
      }
    }
    return o;
  }
}

/** Presets for controllers people already own. */
export const TEMPLATE_PRESETS = {
  /** SMC3 (Arduino 3-motor controller): 10-bit binary in brackets per axis. */
  smc3: { template: '[A<Axis1a>][B<Axis2a>][C<Axis3a>]', bits: 10, format: 'binary' },
  /** Generic: 'P' then every axis as 16-bit big-endian binary. */
  generic16: (axes: number): TemplateOptions => ({
    template: `P${Array.from({ length: axes }, (_, i) => `<Axis${i + 1}a>`).join('')}`,
    bits: 16,
    format: 'binary',
  }),
} as const satisfies { smc3: TemplateOptions; generic16: (n: number) => TemplateOptions };
