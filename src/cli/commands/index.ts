/**
 * The commands of `dualwrite`, in the order the help lists them. A new command is one file
 * exporting a {@link Command}, added here.
 *
 * @module
 */
import { backfillCommand } from './backfill.js';
import type { Command } from './command.js';
import { modeCommand } from './mode.js';
import { repairCommand } from './repair.js';
import { statusCommand } from './status.js';
import { verifyCommand } from './verify.js';

/** Every command. */
export const COMMANDS: readonly Command[] = [backfillCommand, verifyCommand, repairCommand, statusCommand, modeCommand];

export { EXIT, type Command, type CommandContext } from './command.js';
