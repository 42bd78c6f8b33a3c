/**
 * Scheduling priority of one thread (Linux): a thread's nice value is its own, set through
 * its thread id, which `/proc/thread-self` names. Elsewhere these do nothing.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** This thread's id, or undefined where threads cannot be told apart (not Linux). */
export function currentThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** Sets a thread's nice value; false when the system refuses (raising priority needs CAP_SYS_NICE). */
export function setThreadNice(tid: number, nice: number): boolean {
  try {
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}
