import type { Registry } from 'prom-client';
import type { NotifyConfig } from '../platform/config';
import { CheckpointWatcher } from '../platform/checkpoints/checkpoint-watcher';
import type { EmailSender } from '../platform/email/email-sender';
import { createSmtpEmailSender } from '../platform/email/smtp-email-sender';
import type { Logger } from '../platform/logger';
import { createAddressPolicy } from '../platform/outbound/address-policy';
import type { Resolver } from '../platform/outbound/outbound-http';
import type { Platform } from '../platform/platform';
import { PROJECTIONS } from '../projections/index';
import { startNotificationDelivery, type NotificationDelivery } from './notification-delivery';
import { startNotificationFanout } from './notification-fanout';

export interface NotificationsOptions {
  readonly platform: Pick<Platform, 'pool' | 'store' | 'databaseUrl'>;
  readonly config: NotifyConfig;
  readonly log: Logger;
  readonly registry?: Registry;
  /** The SMTP adapter when SMTP_URL is set. */
  readonly email?: EmailSender;
  /** Tests only: a resolver whose answers they control (DNS rebinding). */
  readonly resolve?: Resolver;
}

export interface Notifications {
  readonly delivery: NotificationDelivery;
  stop(): Promise<void>;
}

/** The worker role's notification half: alert events → deliveries (fan-out), deliveries → channels (delivery loop). */
export function startNotifications(options: NotificationsOptions): Notifications {
  const { platform, config, log } = options;
  // SMTP_URL set: email goes through nodemailer unless the caller hands in another sender.
  const ownEmail = options.email === undefined && config.smtp !== undefined ? createSmtpEmailSender(config.smtp, config.timeoutMs) : undefined;
  const email = options.email ?? ownEmail;
  const watcher = new CheckpointWatcher(platform.pool, platform.databaseUrl, PROJECTIONS);
  const delivery = startNotificationDelivery({
    pool: platform.pool,
    log,
    policy: createAddressPolicy(config),
    timeoutMs: config.timeoutMs,
    retry: config,
    pollMs: config.pollMs,
    ...(options.registry ? { registry: options.registry } : {}),
    ...(email ? { email } : {}),
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const fanout = startNotificationFanout({ pool: platform.pool, store: platform.store, watcher, log, onRecorded: () => delivery.wake() });
  log.info({ maxAttempts: config.maxAttempts, allowedNetworks: config.allowedNetworks }, 'notification delivery running');
  return {
    delivery,
    async stop() {
      await fanout.stop();
      await delivery.stop();
      await watcher.stop();
      await ownEmail?.close();
    },
  };
}
