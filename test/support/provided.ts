/**
 * What the global setup hands to test files through vitest's `provide`/`inject`.
 */
export {};

/** How the global setup found its two servers. */
export type ServerRoute = 'env' | 'spawned' | 'docker';

declare module 'vitest' {
  export interface ProvidedContext {
    /** mysql:// URL of the SOURCE server (no database in the path). */
    sourceUrl: string;
    /** mysql:// URL of the TARGET server (no database in the path). */
    targetUrl: string;
    /** Which discovery route the global setup took. */
    serverRoute: ServerRoute;
    /** A template datadir that `spawnServer()` copies, or null when the run made none. */
    templateDatadir: string | null;
  }
}
