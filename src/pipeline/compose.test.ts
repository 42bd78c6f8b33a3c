import { expect, it } from 'vitest';
import { compose, type Stage } from './compose.js';

it('runs stages onion-style, in order in and reverse order out', async () => {
  const log: string[] = [];
  const stage = (name: string): Stage<string[]> => async (_ctx, next) => {
    log.push(`>${name}`);
    await next();
    log.push(`<${name}`);
  };
  await compose([stage('a'), stage('b'), stage('c')])(log);
  expect(log).toEqual(['>a', '>b', '>c', '<c', '<b', '<a']);
});

it('rejects a stage that calls next() twice', async () => {
  const twice: Stage<object> = async (_ctx, next) => {
    await next();
    await next();
  };
  await expect(compose([twice])({})).rejects.toThrow('next() called more than once');
});

it('turns a synchronous throw into a rejection', async () => {
  const bad: Stage<object> = () => {
    throw new Error('boom');
  };
  await expect(compose([bad])({})).rejects.toThrow('boom');
});
