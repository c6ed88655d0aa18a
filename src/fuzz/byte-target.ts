/**
 * The byte-level entry point for byte-oriented fuzzers (jsfuzz, Jazzer.js and,
 * through Jazzer.js, OSS-Fuzz / ClusterFuzzLite): the input bytes drive every
 * choice the generator makes, so a byte mutation is a small change to the op
 * sequence, and a finding is an exception, as those fuzzers expect.
 *
 *   module.exports.fuzz = (data: Buffer) => void   // throws on an invariant violation or a model crash
 *
 * Planted faults for self-tests come from DMASPEC_FAULTS (comma-separated names).
 */
import { FAULT_NAMES, type FaultName } from '../faults';
import { execute } from './execute';
import { generateSequence } from './generate';
import { PLATFORM_NAMES, namedPlatform, randomPlatform } from './platforms';
import type { FuzzInput, Rng } from './types';

/** An Rng that reads its choices from the input bytes; once they run out every choice is 0. */
export class ByteRng implements Rng {
  private pos = 0;

  constructor(private readonly data: Uint8Array) {}

  private byte(): number {
    return this.pos < this.data.length ? this.data[this.pos++]! : 0;
  }

  int(n: number): number {
    if (n <= 1) return 0;
    let v = 0;
    for (let span = 1; span < n && span < 2 ** 48; span *= 256) v = v * 256 + this.byte();
    return v % n;
  }

  chance(p: number): boolean {
    return this.byte() < p * 256;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  bigint(n: bigint): bigint {
    if (n <= 1n) return 0n;
    let v = 0n;
    for (let span = 1n; span < n; span <<= 8n) v = (v << 8n) | BigInt(this.byte());
    return v % n;
  }
}

/** The op sequence a byte string stands for: a platform, then up to 40 generated ops. */
export function decode(data: Uint8Array): FuzzInput {
  const rng = new ByteRng(data);
  const plat = rng.chance(0.5) ? namedPlatform(rng.pick(PLATFORM_NAMES)) : randomPlatform(rng);
  return [...plat, ...generateSequence(rng, plat, { length: 1 + rng.int(40), misuse: 0.05 })];
}

function plantedFaults(): FaultName[] {
  const names = (process.env.DMASPEC_FAULTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(FAULT_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`DMASPEC_FAULTS: unknown fault(s) ${unknown.join(', ')}`);
  return names as FaultName[];
}

/** The fuzz target: runs the decoded sequence with every invariant on; throws what it finds. */
export function fuzz(data: Buffer): void {
  const o = execute(decode(data), { faults: plantedFaults(), features: false });
  if (o.failure) throw new Error(`dmaspec finding ${o.failure.key}: ${o.failure.message}`);
}
