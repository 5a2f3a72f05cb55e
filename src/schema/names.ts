/**
 * How the server compares schema and table names.
 *
 * @module
 */

/**
 * True when the server compares schema and table names case-insensitively
 * (`lower_case_table_names` 1 or 2).
 */
export function namesAreCaseInsensitive(lowerCaseTableNames: number): boolean {
  return lowerCaseTableNames !== 0;
}

/** The form of a schema or table name under which the server sees it as equal to others. */
export function nameKey(name: string, caseInsensitive: boolean): string {
  return caseInsensitive ? name.toLowerCase() : name;
}
