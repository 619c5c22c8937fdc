// Decides which requests fail; a seeded sequence, so a failing run replays the same way after /_sim/reset.
import { createRandom } from './seeded-random.js';

export class FailureInjector {
  private random: () => number;

  constructor(seed: number) {
    this.random = createRandom(seed);
  }

  reseed(seed: number): void {
    this.random = createRandom(seed);
  }

  /** Advances the sequence on every request, so whether request N fails does not depend on the rate of earlier ones. */
  shouldFail(rate: number): boolean {
    const draw = this.random();
    return draw < rate;
  }
}
