// Seeded pseudo-random numbers: the same seed gives the same sequence on every run and machine.
import { createHash } from 'node:crypto';

/** A 32-bit seed derived from any text (sha256, first four bytes). */
export function hashSeed(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

/** mulberry32: returns a function yielding floats in [0, 1); tiny state, good enough spread for a simulator. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
