/**
 * Re-emits events of mysql2 objects on the dual-write objects that stand for them, as mysql2's promise wrappers
 * do: a listener added for one of the names starts the forwarding from every source, once.
 *
 * @module
 */
import type { EventEmitter } from 'node:events';

/**
 * Forwards `names` from each of `sources` to `target`, attaching to the sources lazily when the first listener
 * for a name is added to `target` (so unused events cost nothing). Returns a function that detaches every
 * listener it added to the sources: a pooled mysql2 connection outlives the dual-write connection that wrapped
 * it for one check-out, and must not keep (and call) the listeners of every former wrapper.
 */
export function forwardEvents(target: EventEmitter, sources: readonly EventEmitter[], names: readonly string[]): () => void {
  const forwarded = new Set<string>();
  const attached: [EventEmitter, string, (...args: unknown[]) => void][] = [];
  let detached = false;
  const onNewListener = (name: string | symbol): void => {
    if (detached || typeof name !== 'string' || forwarded.has(name) || !names.includes(name)) return;
    forwarded.add(name);
    for (const source of sources) {
      const relay = (...args: unknown[]): void => void target.emit(name, ...args);
      source.on(name, relay);
      attached.push([source, name, relay]);
    }
  };
  target.on('newListener', onNewListener);
  return () => {
    detached = true;
    target.off('newListener', onNewListener);
    for (const [source, name, relay] of attached) source.off(name, relay);
    attached.length = 0;
  };
}
