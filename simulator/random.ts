/**
 * Seeded randomness for the simulator: fault decisions and generated seed data. Every random
 * choice comes from one seed through pure-rand's xoroshiro128+ (a maintained, jumpable PRNG),
 * so a run is reproducible from the seed alone.
 *
 * Independent consumers (one per fault rule, the seed generator) each take their own stream:
 * stream `i` is the root generator jumped `i + 1` times (2^64 steps each), so streams never
 * overlap and one rule drawing more numbers never shifts another rule's decisions.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

export interface Random {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
}

export interface RandomSource {
  readonly seed: number;
  /** The independent stream number `index` (0, 1, 2, ...) of this seed. */
  stream(index: number): Random;
}

export function createRandomSource(seed: number): RandomSource {
  if (!Number.isSafeInteger(seed)) throw new Error('A random seed must be a safe integer.');
  const root = xoroshiro128plus(seed);
  return {
    seed,
    stream(index) {
      if (!Number.isInteger(index) || index < 0) throw new Error('stream index must be >= 0');
      const rng = root.clone();
      for (let i = 0; i <= index; i += 1) rng.jump();
      return wrap(rng);
    },
  };
}

function wrap(rng: JumpableRandomGenerator): Random {
  return {
    float: () => uniformFloat64(rng),
    int: (min, max) => uniformInt(rng, min, max),
    chance: (p) => (p >= 1 ? true : p <= 0 ? false : uniformFloat64(rng) < p),
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('pick: empty array');
      return items[uniformInt(rng, 0, items.length - 1)] as T;
    },
  };
}
