/** The trace writer thread's batch queue, read from a MessagePort only as batches are written. */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { BatchQueue } from './batch-writer.js';

/**
 * Traces waiting to be written, left in the trace port's queue (serialized, outside the JS
 * heap) until a batch takes them. The main thread posts an array of traces to the port, then
 * announces its length on the control port. Taken on arrival, traces waited in the thread's heap
 * while the thread, at background priority, waited for the CPU: every one outlived its young
 * generation and was copied out of it, and the old generation filled and was compacted
 * several times a second. Only what a message held beyond a batch stays here as strings.
 */
export class PortQueue implements BatchQueue<string> {
  /** Traces the main thread said it sent that are still in the port. */
  private announced = 0;
  /** Traces taken from the port and not yet written (a message's remainder, a failed batch). */
  private taken: string[] = [];

  constructor(private readonly port: MessagePort) {}

  get length(): number {
    return this.announced + this.taken.length;
  }

  announce(n: number): void {
    this.announced += n;
  }

  take(n: number): string[] {
    while (this.taken.length < n && this.announced > 0) {
      const m = receiveMessageOnPort(this.port);
      // The message is in the port before its announcement reaches this thread.
      if (m === undefined) throw new Error(`trace port: ${this.announced} traces announced but not there`);
      const traces = m.message as string[];
      this.announced -= traces.length;
      if (this.taken.length === 0) this.taken = traces;
      else for (const t of traces) this.taken.push(t);
    }
    if (this.taken.length <= n) {
      const all = this.taken;
      this.taken = [];
      return all;
    }
    return this.taken.splice(0, n);
  }

  putBack(items: string[]): void {
    this.taken = items.concat(this.taken);
  }
}

