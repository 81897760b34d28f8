/**
 * `--allow-<action> N --plan <fingerprint>`: the reviewed exception to a threshold (A5). Both
 * halves are required: an allowance without the fingerprint of the plan it was reviewed for would
 * stay open for whatever the next plan contains.
 */
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import type { ThresholdOverrides } from '../engine/model/plan.js';
import type { ThresholdAction } from '../engine/model/spec.js';
import { THRESHOLD_ACTIONS, THRESHOLD_FLAG } from '../engine/model/spec.js';
import { EntrasyncError } from '../engine/errors.js';

const ACTIONS = THRESHOLD_ACTIONS;

export interface OverrideFlags {
  readonly plan?: string;
  readonly allowCreates?: number;
  readonly allowAdoptions?: number;
  readonly allowUpdates?: number;
  readonly allowEnables?: number;
  readonly allowDisables?: number;
  readonly allowDeletes?: number;
  readonly allowLicenseRemovals?: number;
  readonly allowMembershipRemovals?: number;
  readonly allowWritebacks?: number;
}

export function addOverrideOptions(command: Command): Command {
  for (const action of ACTIONS) {
    command.addOption(
      new Option(
        `${THRESHOLD_FLAG[action]} <n>`,
        `let up to n ${action.replace(/[A-Z]/g, (c) => ' ' + c.toLowerCase())} through the threshold, for the plan given by --plan`,
      ).argParser(parseCount),
    );
  }
  return command.addOption(
    new Option(
      '--plan <fingerprint>',
      'fingerprint (or its first 12 characters) of the reviewed plan the --allow-* options are for',
    ),
  );
}

export function overridesFrom(flags: OverrideFlags): ThresholdOverrides | undefined {
  const allow: Partial<Record<ThresholdAction, number>> = {};
  const given: Record<ThresholdAction, number | undefined> = {
    creates: flags.allowCreates,
    adoptions: flags.allowAdoptions,
    updates: flags.allowUpdates,
    enables: flags.allowEnables,
    disables: flags.allowDisables,
    deletes: flags.allowDeletes,
    licenseRemovals: flags.allowLicenseRemovals,
    membershipRemovals: flags.allowMembershipRemovals,
    writebacks: flags.allowWritebacks,
  };
  for (const action of ACTIONS) {
    const n = given[action];
    if (n !== undefined) allow[action] = n;
  }
  if (Object.keys(allow).length === 0) {
    if (flags.plan !== undefined)
      throw new EntrasyncError('cli.usage', '--plan is only meaningful with an --allow-* option');
    return undefined;
  }
  if (flags.plan === undefined || flags.plan.length < 12) {
    throw new EntrasyncError(
      'cli.usage',
      '--allow-* needs --plan <fingerprint>: the fingerprint (at least 12 characters) of the plan you reviewed',
    );
  }
  return { fingerprint: flags.plan, allow };
}

/** Commander argument parser for a whole number of zero or more. */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a whole number');
  return n;
}
