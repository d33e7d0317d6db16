/** The seeded PRNG training and benchmarks draw from: one implementation, in lib/core. */
export { mulberry32 } from '../lib/core/prng.js';
