/**
 * Checks `formatProbability`'s fast path, and `writeProbability`'s bytes, against their definition,
 * `String(Number(p.toPrecision(9)))`, for every float32 from 0 up to 1 (about 1.07 billion values; an hour or
 * so on one core). The unit test (test/core/output-format.test.ts) checks a sample; this is the proof for the
 * rest.
 *
 * `--all` checks every float32 bit pattern instead (both signs, every magnitude, NaN and the infinities: 4.3
 * billion values, two hours or so).
 *
 *   npx tsx benchmarks/check-format.ts [--step n] [--all]   # --step 97: every 97th float32, a few seconds
 */
import { parseArgs } from 'node:util';
import { formatProbability, writeProbability } from '../lib/core/probability-text.js';

const { values } = parseArgs({
  options: { step: { type: 'string', default: '1' }, all: { type: 'boolean', default: false } },
});
const step = Number(values.step);
const out = Buffer.alloc(32);
const f32 = new Float32Array(1);
const bits = new Uint32Array(f32.buffer);
const first = 0;
f32[0] = 1;
const last = values.all ? 2 ** 32 - 1 : (bits[0] as number) + 4;

let checked = 0;
let wrong = 0;
const started = performance.now();
for (let b = first; b <= last; b += step) {
  bits[0] = b;
  const p = f32[0];
  const fast = formatProbability(p);
  const bytes = out.toString('latin1', 0, writeProbability(out, 0, p));
  const slow = String(Number(p.toPrecision(9)));
  checked++;
  if ((fast !== slow || bytes !== slow) && wrong++ < 20)
    console.error(`float32 bits ${b}: ${p} → ${fast} (bytes ${bytes}), expected ${slow}`);
}
console.log(
  `${checked.toLocaleString('en-US')} float32 values checked in ${((performance.now() - started) / 1000).toFixed(0)} s: ${wrong} wrong`,
);
if (wrong > 0) process.exitCode = 1;
