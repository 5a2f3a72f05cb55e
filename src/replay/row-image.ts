/**
 * Row-image replay: for writes that cannot be replayed on the secondary side as
 * SQL text and give the same result there (INSERT IGNORE, ON DUPLICATE KEY UPDATE
 * with several unique keys, REPLACE, INSERT … SELECT, UPDATE/DELETE with LIMIT
 * and no ORDER BY, UUID()/RAND() values, subqueries, multi-table UPDATE/DELETE),
 * the rows the primary side ended up with are applied to the secondary side by
 * primary key.
 *
 * On one primary connection, inside the open transaction:
 * 1. {@link planRowImage} (pure) — can the statement be row-imaged, and how are its rows found;
 * 2. {@link lockBefore} — a locking read of a superset of the rows it may touch;
 * 3. the caller runs the statement;
 * 4. {@link readAfter} — re-reads those rows and the rows it inserted, `FOR UPDATE`, exactly;
 * then on a secondary connection, in a transaction the caller opens:
 * 5. {@link applyRowImage} — deletes, then upserts.
 *
 * Why this is exact: a row read `FOR UPDATE` cannot change until the primary transaction ends,
 * and every earlier committed state of it was replayed before its own commit, so upserting its
 * current state is idempotent; locking and writing a superset of the rows touched is therefore safe.
 * A row that was not locked is never written.
 *
 * @module
 */
export { planRowImage } from './row-image-plan.js';
export { lockBefore, readAfter } from './row-image-read.js';
export { applyRowImage, type ApplyRowImageOptions, type ApplyRowImageResult } from './row-image-apply.js';
export {
  DEFAULT_ROW_IMAGE_MAX_ROWS,
  type GeneratedIdCandidates,
  type KeyTuple,
  type RowImage,
  type RowImageBefore,
  type RowImagePlan,
  type RowImagePlanInput,
  type RowImagePlanResult,
  type RowImageProblem,
  type RowImageStrategy,
  type RowImageTable,
  type RowImageTarget,
  type RowImageUnplannable,
  type RowImageUnplannableReason,
  type SqlFragment,
  type SqlRunner,
  type TableMetadataLookup,
  type TableRowImage,
  type WriteResult,
} from './row-image-types.js';
export type { ExactRow, ExactValue } from '../migrate/codec.js';
