import { assertNever } from '../commands/decider';
import { PermanentEmailError, type EmailSender } from '../platform/email/email-sender';
import type { AddressPolicy } from '../platform/outbound/address-policy';
import { postOutbound, type OutboundResponse, type Resolver } from '../platform/outbound/outbound-http';
import type { ChannelForDelivery } from './notification-deliveries.queries';
import { emailMessage, slackBody, webhookBody, type NotificationContent } from './notification-payload';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';

export interface TransportOptions {
  readonly policy: AddressPolicy;
  readonly timeoutMs: number;
  /** Only tests pass one (a name whose resolution changes); the system resolver otherwise. */
  readonly resolve?: Resolver;
  /** Unset: SMTP is not configured, EMAIL sends fail. */
  readonly email?: EmailSender;
  readonly now?: () => Date;
}

/** One attempt: delivered, or why not and whether another attempt could change it. */
export interface AttemptResult {
  readonly delivered: boolean;
  /** Another attempt cannot help (a 4xx other than 408/429, an SMTP 5xx). */
  readonly permanent: boolean;
  readonly statusCode: number | null;
  readonly error: string | null;
}

const USER_AGENT = 'iotplane-notifier/1';

/** 2xx delivered; 4xx but 408 and 429 permanent; 3xx (never followed), 408, 429 and 5xx worth another attempt. */
export function judgeResponse(response: OutboundResponse): AttemptResult {
  const code = response.statusCode;
  if (code >= 200 && code < 300) return { delivered: true, permanent: false, statusCode: code, error: null };
  const detail = response.body.trim().slice(0, 200);
  if (code >= 300 && code < 400) {
    const to = response.location ? ` to ${response.location}` : '';
    return { delivered: false, permanent: false, statusCode: code, error: `HTTP ${code}: redirect${to} not followed` };
  }
  const permanent = code >= 400 && code < 500 && code !== 408 && code !== 429;
  return { delivered: false, permanent, statusCode: code, error: `HTTP ${code}${detail ? `: ${detail}` : ''}` };
}

const failed = (error: unknown, permanent = false): AttemptResult => ({
  delivered: false,
  permanent,
  statusCode: null,
  error: error instanceof Error ? error.message : String(error),
});

async function post(url: string, body: string, headers: Record<string, string>, options: TransportOptions): Promise<AttemptResult> {
  try {
    const response = await postOutbound(url, body, { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT, ...headers }, options);
    return judgeResponse(response);
  } catch (error) {
    return failed(error);
  }
}

/** Sends one notification to one channel, once; never throws. */
export async function sendNotification(channel: ChannelForDelivery, deliveryId: string, content: NotificationContent, options: TransportOptions): Promise<AttemptResult> {
  const now = options.now ?? (() => new Date());
  switch (channel.type) {
    case 'WEBHOOK': {
      if (channel.secret === null) return failed('the channel has no signing secret');
      const body = webhookBody(deliveryId, content);
      return post(String(channel.config.url), body, {
        'X-Iotplane-Delivery': deliveryId,
        'X-Iotplane-Event': content.type,
        [SIGNATURE_HEADER]: signWebhook(channel.secret, body, now()),
      }, options);
    }
    case 'SLACK':
      if (channel.secret === null) return failed('the channel has no webhook URL');
      return post(channel.secret, slackBody(content), {}, options);
    case 'EMAIL': {
      if (!options.email) return failed('no SMTP transport is configured (SMTP_URL)');
      const message = emailMessage(deliveryId, content);
      try {
        const to = Array.isArray(channel.config.to) ? channel.config.to.map(String) : [];
        await options.email.send({ to, ...message, headers: { 'X-Iotplane-Delivery': deliveryId, 'X-Iotplane-Event': content.type } });
        return { delivered: true, permanent: false, statusCode: null, error: null };
      } catch (error) {
        return failed(error, error instanceof PermanentEmailError);
      }
    }
    default:
      return assertNever(channel.type);
  }
}
