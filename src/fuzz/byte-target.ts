/**
 * The byte-level entry point for byte-oriented fuzzers (jsfuzz, Jazzer.js and,
 * through Jazzer.js, OSS-Fuzz / ClusterFuzzLite): the input bytes drive every
 * choice the generator makes, so a byte mutation is a small change to the op
 * sequence, and a finding is an exception, as those fuzzers expect.
 *
 *   module.exports.fuzz = (data: Buffer) => void   // throws DmaspecFinding, nothing else
 *
 * Configured from the environment, since byte fuzzers pass nothing but bytes:
 *   DMASPEC_PLATFORM  mix (default: the bytes pick a named or a random platform), random, or a named platform
 *   DMASPEC_FAULTS    planted faults (src/faults.ts), comma-separated, for self-tests and the benchmark
 * A bad value throws a plain Error naming the variable on the first call, before any input runs.
 */
import { FAULT_NAMES, type FaultName } from '../faults';
import { execute } from './execute';
import { generateSequence } from './generate';
import { PLATFORM_NAMES, namedPlatform, randomPlatform } from './platforms';
import type { Failure, FuzzInput, Rng } from './types';

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

/** 'mix': the bytes choose a named or a random platform; 'random': a random one; else that named platform. */
export type BytePlatform = 'mix' | 'random' | (typeof PLATFORM_NAMES)[number];

/** Ops after the platform: the same bound as a campaign's default sequence length. */
export const MAX_OPS = 40;

/** The op sequence a byte string stands for: the platform's ops, then 1..MAX_OPS generated ops. */
export function decode(data: Uint8Array, platform: BytePlatform = 'mix'): FuzzInput {
  const rng = new ByteRng(data);
  const plat = platform === 'random' ? randomPlatform(rng)
    : platform !== 'mix' ? namedPlatform(platform)
      : rng.chance(0.5) ? namedPlatform(rng.pick(PLATFORM_NAMES)) : randomPlatform(rng);
  return [...plat, ...generateSequence(rng, plat, { length: 1 + rng.int(MAX_OPS), misuse: 0.05 })];
}

/** What a byte fuzzer catches: an invariant violation or a model crash, with its deduplication key. */
export class DmaspecFinding extends Error {
  constructor(readonly failure: Failure) {
    super(`dmaspec finding ${failure.key}: ${failure.message}`);
    this.name = 'DmaspecFinding';
  }
}

export interface TargetConfig {
  readonly platform: BytePlatform;
  readonly faults: readonly FaultName[];
}

/** Reads DMASPEC_PLATFORM and DMASPEC_FAULTS; throws an Error naming the variable and the bad value. */
export function targetConfig(env: NodeJS.ProcessEnv = process.env): TargetConfig {
  const p = (env.DMASPEC_PLATFORM ?? '').trim() || 'mix';
  const platforms: readonly string[] = ['mix', 'random', ...PLATFORM_NAMES];
  if (!platforms.includes(p)) throw new Error(`DMASPEC_PLATFORM: unknown platform "${p}" (one of ${platforms.join(', ')})`);
  const faults = (env.DMASPEC_FAULTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = faults.filter((n) => !(FAULT_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`DMASPEC_FAULTS: unknown fault(s) ${unknown.join(', ')}`);
  return { platform: p as BytePlatform, faults: faults as FaultName[] };
}

// Parsed once per distinct environment: the fuzzer calls fuzz() thousands of times a second.
let cached: { key: string; config: TargetConfig } | undefined;
function currentConfig(): TargetConfig {
  const key = `${process.env.DMASPEC_PLATFORM ?? ''}\0${process.env.DMASPEC_FAULTS ?? ''}`;
  if (cached?.key !== key) cached = { key, config: targetConfig() };
  return cached.config;
}

/**
 * The fuzz target: runs the decoded sequence with every invariant on and throws DmaspecFinding for a
 * violation or a model crash. An input the engine rejects (a handle whose create failed at run time)
 * is a dead end, not a finding: it returns quietly, so the fuzzer never stops on it.
 */
export function fuzz(data: Buffer): void {
  const { platform, faults } = currentConfig();
  const o = execute(decode(data, platform), { faults, features: false });
  if (o.failure) throw new DmaspecFinding(o.failure);
}
