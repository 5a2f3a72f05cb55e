/**
 * The cached analyzer the pool uses: one analysis per distinct SQL text, kept
 * in an LRU cache. Statements with placeholders repeat, so almost every call
 * is a cache hit.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import { analyze } from './analyze.js';
import type { StatementAnalysis } from './types.js';

/** Options of a {@link StatementAnalyzer}. */
export interface StatementAnalyzerOptions {
  /**
   * The most distinct SQL texts kept.
   * @defaultValue 10000
   */
  readonly maxEntries?: number;
  /**
   * The most SQL text kept, in characters, across all entries. Bounds memory when
   * an application sends many large texts with inlined values.
   * @defaultValue 16 MiB worth of characters (16 777 216)
   */
  readonly maxSize?: number;
  /**
   * Texts longer than this are analyzed every time and never cached (a
   * 1000-row INSERT with inlined values is seldom sent twice).
   * @defaultValue 65536
   */
  readonly maxEntrySize?: number;
}

/** Counters of a {@link StatementAnalyzer}, for telemetry. */
export interface StatementAnalyzerStats {
  /** Calls answered from the cache. */
  readonly hits: number;
  /** Calls that analyzed the text. */
  readonly misses: number;
  /** Distinct texts currently cached. */
  readonly size: number;
}

/**
 * Analyzes SQL texts, caching the result per distinct text.
 *
 * @example
 * ```ts
 * const analyzer = new StatementAnalyzer({ maxEntries: 5000 });
 * const a = analyzer.analyze('UPDATE t SET v = ? WHERE id = ?');
 * a.class; // 'write'
 * ```
 */
export class StatementAnalyzer {
  readonly #cache: LRUCache<string, StatementAnalysis>;
  readonly #maxEntrySize: number;
  #hits = 0;
  #misses = 0;

  /** Creates an analyzer with its own cache. */
  constructor(options: StatementAnalyzerOptions = {}) {
    this.#maxEntrySize = options.maxEntrySize ?? 65_536;
    this.#cache = new LRUCache<string, StatementAnalysis>({
      max: options.maxEntries ?? 10_000,
      maxSize: options.maxSize ?? 16_777_216,
      sizeCalculation: (_value, key) => Math.max(1, key.length),
    });
  }

  /** The analysis of `sql`, from the cache when this text was seen before. Never throws. */
  analyze(sql: string): StatementAnalysis {
    const cached = this.#cache.get(sql);
    if (cached !== undefined) {
      this.#hits++;
      return cached;
    }
    this.#misses++;
    const analysis = analyze(sql);
    if (sql.length <= this.#maxEntrySize) this.#cache.set(sql, analysis);
    return analysis;
  }

  /** Hit and miss counters and the cache's size. */
  stats(): StatementAnalyzerStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#cache.size };
  }

  /** Empties the cache (counters are kept). */
  clear(): void {
    this.#cache.clear();
  }
}
