/** Polls `cond` every 10 ms until it holds; rejects after timeoutMs, naming what it waited for. */
export function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error(`${what} not met in ${timeoutMs} ms`));
      else setTimeout(check, 10);
    };
    check();
  });
}
