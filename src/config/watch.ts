/**
 * Watches a config file for edits (`llmops serve --watch`). The file's folder is watched,
 * not the file: editors that save by writing a new file and renaming it, and Kubernetes
 * ConfigMap updates (a symlink swapped in the folder), are seen too. Events are debounced,
 * and `onChange` runs only when the file's bytes differ from the last ones seen, so a touch
 * or an editor's temporary files cause no reload.
 *
 * @example
 * const watcher = watchConfigFile('llmops.yaml', () => void gateway.reload());
 * watcher.close();
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';

export interface ConfigWatcher {
  close(): void;
}

function digest(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return undefined; // gone for a moment (mid-rename) or unreadable: wait for the next event
  }
}

export function watchConfigFile(path: string, onChange: () => void, opts: { debounceMs?: number } = {}): ConfigWatcher {
  const debounceMs = opts.debounceMs ?? 300;
  let last = digest(path);
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    timer = undefined;
    const now = digest(path);
    if (now === undefined || now === last) return;
    last = now;
    onChange();
  };
  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, () => {
    clearTimeout(timer);
    timer = setTimeout(check, debounceMs);
    timer.unref();
  });
  watcher.on('error', () => undefined); // the folder went away: nothing more to watch
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
