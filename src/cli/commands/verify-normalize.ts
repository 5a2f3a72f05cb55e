/**
 * `dualwrite verify --normalize RULES`: the command line's spelling of the library's normalisation profile
 * (`NormalizationProfile`, ../../migrate/normalize). Each rule is a kebab-case name, with a value where the rule takes
 * one: `float-digits=7,decimals,temporal,datetime-zone=+02:00,trailing-spaces,letter-case,json`. The library's
 * camelCase names are accepted too (`floatDigits=7`), and so is the library's value of a switch (`decimals=value`),
 * so the config file's key `normalize` can hold either that text or the profile object itself
 * (`{ "floatDigits": 7, "decimals": "value" }`). The values are checked by the library's `checkProfile`, whose message
 * is the one shown.
 *
 * @module
 */
import { InvalidOptionError } from '../../errors.js';
import { queryExact } from '../../migrate/codec.js';
import { checkProfile, describeRule, type NormalizationProfile, type NormalizationRule } from '../../migrate/normalize.js';
import { UsageError, type RuleItem } from '../args.js';
import { CliError, type Connected } from '../connection.js';

type ProfileKey = keyof NormalizationProfile;

/** Command-line name → profile key. */
const CLI_NAMES: Readonly<Record<string, ProfileKey>> = {
  'float-digits': 'floatDigits',
  decimals: 'decimals',
  temporal: 'temporal',
  'datetime-zone': 'datetimeZone',
  'trailing-spaces': 'trailingSpaces',
  'letter-case': 'letterCase',
  json: 'json',
};

/** The one value of each rule that is a switch (a bare name turns it on). */
const SWITCHES: Readonly<Partial<Record<ProfileKey, string>>> = { decimals: 'value', temporal: 'instant', trailingSpaces: 'ignore', letterCase: 'ignore', json: 'document' };

/** The rules as the command line spells them, for messages and the help. */
export const NORMALIZE_RULES_HELP = 'float-digits=N (1-17; 7 for FLOAT against DOUBLE), decimals, temporal, datetime-zone=ZONE (with temporal), trailing-spaces, letter-case, json';

/** The rule order of the profile's own type, for a stable description. */
const RULE_ORDER: readonly NormalizationRule[] = ['floatDigits', 'decimals', 'temporal', 'trailingSpaces', 'letterCase', 'json'];

/**
 * The normalisation profile `--normalize` (or the config file's `normalize`) asks for.
 *
 * @param items - the rule items as parsed (`['float-digits', '7']`, `['json', true]`, or from a config object `['floatDigits', 7]`)
 * @param command - the command's name (for messages)
 * @throws {@link UsageError} for an unknown rule, a bad or missing value, a rule given twice, or `datetime-zone` without `temporal`
 */
export function normalizationProfile(items: readonly RuleItem[], command: string): NormalizationProfile {
  const profile: Partial<Record<ProfileKey, string | number | boolean>> = {};
  const given = new Map<string, string>(); // profile key → the item as written, for messages
  for (const [name, value] of items) {
    const written = value === true ? name : `${name}=${String(value)}`;
    const key = (CLI_NAMES[name] ?? name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())) as ProfileKey;
    const twice = given.get(key);
    if (twice !== undefined) throw new UsageError(`--normalize gives the rule ${kebab(key)} twice (${twice} and ${written}): give each rule once`, command);
    given.set(key, written);
    if (value === false) continue; // config file: { "json": false } leaves the rule off
    const on = SWITCHES[key];
    if (on !== undefined) {
      profile[key] = value === true ? on : value;
    } else if (key === 'floatDigits' || key === 'datetimeZone') {
      if (value === true || value === '') {
        throw new UsageError(`--normalize ${name} needs a value: ${key === 'floatDigits' ? 'the significant digits compared, e.g. float-digits=7 (FLOAT against DOUBLE)' : "the time zone of the DATETIME values, e.g. datetime-zone=+02:00 or datetime-zone=Europe/Paris"}`, command);
      }
      profile[key] = key === 'floatDigits' && typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    } else {
      profile[key] = value; // unknown: checkProfile names it and lists the rules
    }
  }
  try {
    checkProfile(profile as NormalizationProfile, '--normalize');
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    const key = error.option.slice('--normalize.'.length);
    throw new UsageError(`--normalize ${given.get(key) ?? ''}: ${error.message} On the command line the rules are: ${NORMALIZE_RULES_HELP}`, command);
  }
  if (profile.datetimeZone !== undefined && profile.temporal === undefined) {
    throw new UsageError(`--normalize ${given.get('datetimeZone') ?? ''} sets the zone of DATETIME values compared by the rule temporal, which is not given: add temporal (or drop datetime-zone)`, command);
  }
  if (!RULE_ORDER.some((rule) => profile[rule] !== undefined)) {
    throw new UsageError(`--normalize turns no rule on: give at least one of ${NORMALIZE_RULES_HELP}`, command);
  }
  return profile as NormalizationProfile;
}

/** What a profile does, e.g. `floats rounded to 7 significant digits; decimals compared by value`. */
export function describeProfile(profile: NormalizationProfile): string {
  return RULE_ORDER.filter((rule) => profile[rule] !== undefined)
    .map((rule) => describeRule(rule, profile))
    .join('; ');
}

/**
 * Refuses a `datetime-zone` that a side's server cannot convert from. `CONVERT_TZ` gives NULL for a zone name the
 * server does not know (its time zone tables are not loaded, or the name is wrong), and the library does not check:
 * every DATETIME would then normalise to NULL on both sides and compare equal, hiding real differences.
 *
 * @param servers - each server the comparison reads, with its name for the message (`source`, `source replica`, …)
 * @throws {@link CliError} naming the server and what to do
 */
export async function checkDatetimeZone(profile: NormalizationProfile | undefined, servers: readonly (readonly [string, Connected | undefined])[]): Promise<void> {
  const zone = profile?.datetimeZone;
  if (profile?.temporal === undefined || zone === undefined || zone === '+00:00') return;
  for (const [what, connected] of servers) {
    if (connected === undefined) continue;
    const [row] = await queryExact(connected.pool, "SELECT CONVERT_TZ('2000-01-01 00:00:00', ?, '+00:00')", [zone]);
    if (row?.[0] !== null && row?.[0] !== undefined) continue;
    throw new CliError(
      'ER_DUALWRITE_CLI_TIME_ZONE',
      `--normalize datetime-zone=${zone}: the ${what} server ${connected.display} does not know that time zone (CONVERT_TZ gives NULL: its time zone tables are not loaded, ` +
        'or the name is wrong), so every DATETIME value would compare as NULL and differences would be hidden: load the time zone tables ' +
        '(mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb mysql), or give the zone as an offset, e.g. datetime-zone=+02:00',
    );
  }
}

/** `floatDigits` → `float-digits`. */
function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
