import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PortQueue } from './port-queue.js';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

/** A queue over a fresh channel, and a way to send it a message of traces as the main thread does. */
function setup() {
  const channel = new MessageChannel();
  channels.push(channel);
  const queue = new PortQueue(channel.port2);
  const send = (traces: string[]): void => {
    channel.port1.postMessage(traces);
    queue.announce(traces.length);
  };
  return { queue, send, port: channel.port2 };
}

describe('PortQueue', () => {
  it('counts announced traces and reads from the port only as many messages as a batch needs', () => {
    const { queue, send, port } = setup();
    send(['a', 'b', 'c']);
    send(['d', 'e']);
    send(['f']);
    expect(queue.length).toBe(6);
    expect(queue.take(2)).toEqual(['a', 'b']);
    expect(queue.length).toBe(4);
    expect(queue.take(3)).toEqual(['c', 'd', 'e']);
    // The last message was never read: it is still in the port.
    expect(receiveMessageOnPort(port)?.message).toEqual(['f']);
  });

  it('puts a failed batch back at the front, before what is still in the port', () => {
    const { queue, send } = setup();
    send(['a', 'b']);
    send(['c']);
    const batch = queue.take(2);
    queue.putBack(batch);
    expect(queue.length).toBe(3);
    expect(queue.take(10)).toEqual(['a', 'b', 'c']);
    expect(queue.length).toBe(0);
    expect(queue.take(10)).toEqual([]);
  });

  it('fails loudly when announced traces are not in the port', () => {
    const { queue } = setup();
    queue.announce(2);
    expect(() => queue.take(2)).toThrow('trace port: 2 traces announced but not there');
  });
});
