/** RedisBreaker on its own, with a clock the test moves: what opens it, what it lets through. */
import { describe, expect, it } from 'vitest';
import { RedisBreaker } from './redis.js';

function replyError(message: string): Error {
  const err = new Error(message);
  err.name = 'ReplyError';
  return err;
}

describe('RedisBreaker', () => {
  it('after a call could not reach Redis, skips it until the open time is over, then lets one call probe while the rest still fail at once', async () => {
    let now = 0;
    const b = new RedisBreaker('test', 1000, () => now);
    let calls = 0;
    const ok = (): Promise<string> => (calls++, Promise.resolve('ok'));
    const timeout = (): Promise<string> => (calls++, Promise.reject(new Error('Command timed out')));

    await expect(b.run(ok)).resolves.toBe('ok');
    await expect(b.run(timeout)).rejects.toThrow('Command timed out');
    calls = 0;
    now = 999;
    await expect(b.run(ok)).rejects.toThrow(/skipped for 1000 ms/);
    expect(calls).toBe(0);

    now = 1001;
    let release!: (v: string) => void;
    const probe = b.run(() => (calls++, new Promise<string>((r) => (release = r))));
    await expect(b.run(ok)).rejects.toThrow(/skipped/); // while the probe is out
    expect(calls).toBe(1);
    release('back');
    await expect(probe).resolves.toBe('back');
    await expect(b.run(ok)).resolves.toBe('ok'); // closed again
    expect(calls).toBe(2);
  });

  it('a probe that fails opens it again for the whole open time', async () => {
    let now = 0;
    const b = new RedisBreaker('test', 1000, () => now);
    const closed = (): Promise<never> => Promise.reject(new Error('Connection is closed.'));
    await expect(b.run(closed)).rejects.toThrow('Connection is closed.');
    now = 1500;
    await expect(b.run(closed)).rejects.toThrow('Connection is closed.'); // the probe
    now = 2400;
    await expect(b.run(() => Promise.resolve(1))).rejects.toThrow(/skipped/);
    now = 2501;
    await expect(b.run(() => Promise.resolve(1))).resolves.toBe(1);
  });

  it("Redis' own answer to a command does not open it; a cluster that cannot serve the slot does", async () => {
    const b = new RedisBreaker('test', 1000, () => 0);
    await expect(b.run(() => Promise.reject(replyError('ERR Error running script (call to f_1): bad')))).rejects.toThrow(/bad/);
    await expect(b.run(() => Promise.resolve('still open for business'))).resolves.toBe('still open for business');
    await expect(b.run(() => Promise.reject(replyError('CLUSTERDOWN The cluster is down')))).rejects.toThrow(/CLUSTERDOWN/);
    await expect(b.run(() => Promise.resolve(1))).rejects.toThrow(/skipped/);
  });
});
