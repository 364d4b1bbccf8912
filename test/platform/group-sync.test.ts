import { describe, expect, it } from 'vitest';
import { GroupSync } from '../../src/platform/group-sync.js';

/** A run that finishes only when the test says so. */
function controlledRuns() {
  const started: Array<() => void> = [];
  const group = new GroupSync(
    () =>
      new Promise<void>((resolve) => {
        started.push(resolve);
      }),
  );
  return { group, started };
}

describe('GroupSync', () => {
  it('starts a run at once when none is in flight', async () => {
    const { group, started } = controlledRuns();
    const a = group.sync();
    expect(started).toHaveLength(1);
    started[0]();
    await a;
  });

  it('makes callers that arrive during a run wait for a run that starts after it, and shares that one', async () => {
    const { group, started } = controlledRuns();
    const first = group.sync();
    const order: string[] = [];
    const later1 = group.sync().then(() => order.push('later1'));
    const later2 = group.sync().then(() => order.push('later2'));
    void first.then(() => order.push('first'));
    expect(started).toHaveLength(1);
    started[0]();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(2); // one more run for both late callers, started after the first ended
    expect(order).toEqual(['first']);
    started[1]();
    await Promise.all([later1, later2]);
    expect(order).toEqual(['first', 'later1', 'later2']);
    // Idle again: the next caller starts a new run at once.
    const again = group.sync();
    expect(started).toHaveLength(3);
    started[2]();
    await again;
  });

  it('passes a failed run to its callers and still serves the next ones', async () => {
    let fail = true;
    const group = new GroupSync(async () => {
      if (fail) throw new Error('EIO');
    });
    await expect(group.sync()).rejects.toThrow('EIO');
    fail = false;
    await expect(group.sync()).resolves.toBeUndefined();
  });
});
