/**
 * Re-emits events of mysql2 objects on the dual-write objects that stand for them, as mysql2's promise wrappers
 * do: a listener added for one of the names starts the forwarding from every source, once.
 *
 * @module
 */
import type { EventEmitter } from 'node:events';

/**
 * Forwards `names` from each of `sources` to `target`, attaching to the sources lazily when the first listener
 * for a name is added to `target` (so unused events cost nothing).
 */
export function forwardEvents(target: EventEmitter, sources: readonly EventEmitter[], names: readonly string[]): void {
  const forwarded = new Set<string>();
  target.on('newListener', (name: string | symbol) => {
    if (typeof name !== 'string' || forwarded.has(name) || !names.includes(name)) return;
    forwarded.add(name);
    for (const source of sources) source.on(name, (...args: unknown[]) => target.emit(name, ...args));
  });
}
