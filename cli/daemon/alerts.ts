/**
 * Alerts: the daemon tells a webhook when it becomes degraded, when the reason changes, and when
 * it recovers. One JSON POST per event with a `text` line (what Slack and Mattermost incoming
 * webhooks display) and the details as fields.
 *
 * Contracts: one attempt with a time limit, never a retry loop; a failed alert is logged (through
 * the redactor: webhook URLs carry tokens) and never fails or delays a run; the URL itself is a
 * secret and never logged.
 */
import type { Redactor } from '../../engine/secret.js';
import type { Logger } from '../logging.js';

export type AlertEvent = 'degraded' | 'recovered';

export interface Alert {
  readonly event: AlertEvent;
  /** Why the daemon is degraded, or what it recovered from. */
  readonly reason: string;
  readonly runId: string;
  /** ISO 8601. */
  readonly at: string;
  readonly consecutiveFailures: number;
  /** ISO 8601: when the daemon tries again while backing off. */
  readonly nextAttemptAt?: string;
}

export interface AlertSink {
  send(alert: Alert): Promise<void>;
}

export interface WebhookOptions {
  readonly url: string;
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly timeoutMs?: number;
  /** Injected in tests; global fetch otherwise. */
  readonly fetch?: typeof fetch;
}

export function createWebhookAlertSink(options: WebhookOptions): AlertSink {
  // The whole URL is registered: a Slack or Teams webhook URL is a bearer credential.
  options.redactor.add(options.url);
  const post = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async send(alert) {
      const body = {
        source: 'entrasync',
        text: options.redactor.redact(alertText(alert)),
        ...alert,
        reason: options.redactor.redact(alert.reason),
      };
      try {
        const response = await post(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
        await response.body?.cancel();
        if (!response.ok) {
          options.logger.warn(
            { event: alert.event, status: response.status },
            'alert webhook answered with an error status',
          );
        }
      } catch (err) {
        options.logger.warn({ event: alert.event, err }, 'alert webhook could not be reached');
      }
    },
  };
}

export function alertText(alert: Alert): string {
  if (alert.event === 'recovered') {
    return `entrasync recovered (run ${alert.runId}): ${alert.reason}`;
  }
  const retry = alert.nextAttemptAt ? `; next try at ${alert.nextAttemptAt}` : '';
  return `entrasync degraded (run ${alert.runId}, ${alert.consecutiveFailures} failed run(s) in a row): ${alert.reason}${retry}`;
}

/** Collects alerts in memory: tests, and a daemon without a webhook (alerts are still logged). */
export function createMemoryAlertSink(): AlertSink & { readonly sent: Alert[] } {
  const sent: Alert[] = [];
  return {
    sent,
    send(alert) {
      sent.push(alert);
      return Promise.resolve();
    },
  };
}
