import { describe, expect, it } from 'vitest';
import { TEMPLATE_PRESETS, TemplateEncoder, TemplateError } from '../../src/output/template.js';

const bytes = (enc: TemplateEncoder, values: number[]) => Array.from(enc.frame.subarray(0, enc.encode(Float64Array.from(values))));
const ascii = (s: string) => Array.from(Buffer.from(s, 'latin1'));

describe('template output', () => {
  it('SMC3 preset: 10-bit big-endian binary in [A..][B..][C..], byte exact', () => {
    const enc = new TemplateEncoder(TEMPLATE_PRESETS.smc3);
    expect(enc.axes).toBe(3);
    // Centre 0.5·1023 = 511.5 → 512 = 0x0200; ends 0 and 1023 = 0x03FF.
    expect(bytes(enc, [0.5, 0.5, 0.5])).toEqual([...ascii('[A'), 0x02, 0x00, ...ascii(']'), ...ascii('[B'), 0x02, 0x00, ...ascii(']'), ...ascii('[C'), 0x02, 0x00, ...ascii(']')]);
    expect(bytes(enc, [0, 1, 0])).toEqual([...ascii('[A'), 0, 0, ...ascii('][B'), 0x03, 0xff, ...ascii('][C'), 0, 0, ...ascii(']')]);
    // Rounding: 0.25·1023 = 255.75 → 256 = 0x0100; 0.1·1023 = 102.3 → 102 = 0x0066.
    expect(bytes(enc, [0.25, 0.1, 1]).slice(2, 4)).toEqual([0x01, 0x00]);
    expect(bytes(enc, [0.25, 0.1, 1]).slice(7, 9)).toEqual([0x00, 0x66]);
    // Out of range clamps; NaN sends the centre.
    expect(bytes(enc, [-3, 7, Number.NaN]).filter((_, i) => [2, 3, 7, 8, 12, 13].includes(i))).toEqual([0, 0, 0x03, 0xff, 0x02, 0x00]);
  });

  it('generic 16-bit preset: P then big-endian words', () => {
    const enc = new TemplateEncoder(TEMPLATE_PRESETS.generic16(6));
    expect(enc.axes).toBe(6);
    // 0.5·65535 = 32767.5 → 32768 = 0x8000.
    expect(bytes(enc, [0, 1, 0.5, 0.5, 0.25, 0.75])).toEqual([0x50, 0, 0, 0xff, 0xff, 0x80, 0x00, 0x80, 0x00, 0x40, 0x00, 0xbf, 0xff]);
  });

  it('decimal and hex text, literal bytes, start and stop strings', () => {
    const dec = new TemplateEncoder({ template: 'X<Axis1a>Y<Axis2a><13><10>', bits: 8, format: 'decimal', start: '<255>', stop: '!' });
    expect(bytes(dec, [0, 1])).toEqual([255, ...ascii('X0Y255'), 13, 10, ...ascii('!')]);
    expect(bytes(dec, [0.5, 0.04])).toEqual([255, ...ascii('X128Y10'), 13, 10, ...ascii('!')]);
    const hex = new TemplateEncoder({ template: '<Axis1a>,<Axis2a>', bits: 12, format: 'hex' });
    expect(Buffer.from(hex.frame.subarray(0, hex.encode(Float64Array.from([1, 0.5])))).toString('latin1')).toBe('FFF,800');
    const b24 = new TemplateEncoder({ template: '<Axis1a>', bits: 24, format: 'binary' });
    expect(bytes(b24, [1])).toEqual([0xff, 0xff, 0xff]);
  });

  it('refuses bad templates and bit depths', () => {
    expect(() => new TemplateEncoder({ template: '<Axis9a>', bits: 8, format: 'binary' })).toThrow(TemplateError);
    expect(() => new TemplateEncoder({ template: '<256>', bits: 8, format: 'binary' })).toThrow(/unknown placeholder <256>/);
    expect(() => new TemplateEncoder({ template: '<Axis1a>', bits: 7, format: 'binary' })).toThrow(/bits must be 8..24/);
    expect(() => new TemplateEncoder({ template: '<Axis1a>', bits: 25, format: 'binary' })).toThrow(TemplateError);
  });
});
