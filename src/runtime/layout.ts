/**
 * A block of numbers shared between threads, declared once by field names: each name gets
 * its index, array fields get a run of indices, and `length` is the total. Both sides of a
 * slot import the same declaration, so no index is written by hand twice.
 *
 *   const L = layout({ tick: 1, positions: 16 });   // L.tick === 0, L.positions === 1, L.length === 17
 */
export type Layout<F extends Record<string, number>> = { readonly [K in keyof F]: number } & { readonly length: number };

export function layout<const F extends Record<string, number>>(fields: F): Layout<F> {
  const out: Record<string, number> = {};
  let at = 0;
  for (const [name, size] of Object.entries(fields)) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`layout field ${name}: size ${size}`);
    out[name] = at;
    at += size;
  }
  out.length = at;
  return Object.freeze(out) as Layout<F>;
}

/** Names for a const enum object ({ a: 0, b: 1 } → ['a', 'b']), indexed by value. */
export function namesOf<const E extends Record<string, number>>(e: E): (keyof E & string)[] {
  const names: string[] = [];
  for (const [k, v] of Object.entries(e)) names[v] = k;
  return names as (keyof E & string)[];
}
