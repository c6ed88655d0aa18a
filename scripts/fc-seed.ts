/**
 * Loaded before every unit-test file (node --import): fast-check runs with a
 * fixed seed, so `npm test` is deterministic. FC_SEED=n explores another seed;
 * a failure prints the seed and path to replay it.
 */
import fc from 'fast-check';

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261122;
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
