/**
 * Schedules: node-cron in production, a hand-cranked one in tests (`createManualScheduler`), so
 * no test waits for a real cron minute. Overlap is not left to node-cron: the daemon itself
 * skips (and logs) a tick while a run is going, whatever called it.
 */
import { createTask } from 'node-cron';
import { scheduleProblem } from '../../config/schedule.js';
import type { ScheduledTask } from 'node-cron';
import { ConfigError } from '../../engine/errors.js';
import type { Logger } from '../logging.js';
import type { Scheduler } from './ports.js';

export interface CronSchedulerOptions {
  readonly timezone?: string;
  readonly logger?: Logger;
}

/** Checks a cron expression; a ConfigError names the bad field(s). */
export function checkSchedule(expression: string): void {
  const problem = scheduleProblem(expression);
  if (problem === undefined) return;
  throw new ConfigError([
    { severity: 'error', code: 'config.schedule', message: problem, path: 'schedule' },
  ]);
}

export function createCronScheduler(
  expression: string,
  options: CronSchedulerOptions = {},
): Scheduler {
  checkSchedule(expression);
  let task: ScheduledTask | undefined;
  const log = options.logger;
  return {
    start(tick) {
      task = createTask(expression, () => tick(), {
        name: 'entrasync',
        ...(options.timezone ? { timezone: options.timezone } : {}),
        ...(log
          ? {
              logger: {
                info: (m) => log.debug({ scheduler: 'node-cron' }, m),
                warn: (m) => log.warn({ scheduler: 'node-cron' }, m),
                error: (m, err) => log.error({ scheduler: 'node-cron', err }, String(m)),
                debug: (m, err) => log.debug({ scheduler: 'node-cron', err }, String(m)),
              },
            }
          : {}),
      });
      void task.start();
    },
    stop() {
      void task?.destroy();
      task = undefined;
    },
    nextRun() {
      return task?.getNextRun()?.getTime();
    },
  };
}

export interface ManualScheduler extends Scheduler {
  /** Calls the tick as the schedule would; false when not started. */
  fire(): boolean;
  readonly started: boolean;
}

export function createManualScheduler(): ManualScheduler {
  let tick: (() => void) | undefined;
  return {
    start(t) {
      tick = t;
    },
    stop() {
      tick = undefined;
    },
    nextRun: () => undefined,
    fire() {
      if (!tick) return false;
      tick();
      return true;
    },
    get started() {
      return tick !== undefined;
    },
  };
}
