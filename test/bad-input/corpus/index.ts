/**
 * The bad-input corpus: malformed, adversarial and unsupported statements (see each file's header for its group).
 * Every entry has a note saying what it is; most are generated from small lists, so the counts below come from
 * how the groups are built, not from a hand-written list.
 */
import { encoding } from './encoding.js';
import { multi } from './multi.js';
import { placeholders } from './placeholders.js';
import { quotes } from './quotes.js';
import { sizes, tenMegabytes } from './sizes.js';
import type { BadInput } from './spec.js';
import { truncated } from './truncated.js';

export { ITEMS_DDL, ITEMS_SEED, type BadInput } from './spec.js';
export { tenMegabytes };

/** Every entry but the 10 MB statement, in a fixed order. */
export const badInputs: readonly BadInput[] = [...truncated, ...quotes, ...multi, ...placeholders, ...encoding, ...sizes];
