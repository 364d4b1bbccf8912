import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../../src/errors.js';
import { ByteBudget } from '../../../src/read/budget.js';

/** Lets every already-settled promise callback run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('ByteBudget', () => {
  it('admits requests while they fit and holds the rest until bytes are released', async () => {
    const b = new ByteBudget(100);
    await b.acquire(60);
    await b.acquire(40);
    expect(b.held).toBe(100);
    let admitted = false;
    const p = b.acquire(10).then(() => (admitted = true));
    await settle();
    expect(admitted).toBe(false);
    b.release(5);
    await settle();
    expect(admitted).toBe(false);
    b.release(5);
    await p;
    expect(b.held).toBe(100);
  });

  it('serves waiters first come, first served: a small request does not overtake a large one', async () => {
    const b = new ByteBudget(100);
    await b.acquire(90);
    const order: string[] = [];
    const big = b.acquire(80).then(() => order.push('big'));
    const small = b.acquire(5).then(() => order.push('small'));
    await settle();
    expect(order).toEqual([]); // 5 would fit, but the 80 came first
    b.release(90);
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
    expect(b.held).toBe(85);
  });

  it('admits a request larger than the limit alone once nothing is held', async () => {
    const b = new ByteBudget(100);
    await b.acquire(250); // nothing held: admitted at once
    expect(b.held).toBe(250);
    b.release(250);
    await b.acquire(30);
    let admitted = false;
    const p = b.acquire(500).then(() => (admitted = true));
    await settle();
    expect(admitted).toBe(false);
    b.release(30);
    await p;
    expect(b.held).toBe(500);
  });

  it('abort removes the waiter, rejects it, and lets the ones behind it in', async () => {
    const b = new ByteBudget(100);
    await b.acquire(50);
    const ac = new AbortController();
    const blocked = b.acquire(80, ac.signal);
    let smallIn = false;
    const small = b.acquire(10).then(() => (smallIn = true));
    await settle();
    expect(smallIn).toBe(false);
    ac.abort();
    await expect(blocked).rejects.toBeInstanceOf(AbortedError);
    await small;
    expect(b.held).toBe(60);
    expect(b.waiting).toBe(0);
  });

  it('rejects at once when the signal is already aborted, holding nothing', async () => {
    const b = new ByteBudget(100);
    const ac = new AbortController();
    ac.abort();
    await expect(b.acquire(1, ac.signal)).rejects.toBeInstanceOf(AbortedError);
    expect(b.held).toBe(0);
  });

  it('refuses to release more than is held', () => {
    const b = new ByteBudget(10);
    expect(() => b.release(1)).toThrow(RangeError);
  });
});
