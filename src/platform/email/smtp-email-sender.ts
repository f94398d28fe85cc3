import nodemailer from 'nodemailer';
import { PermanentEmailError, type EmailMessage, type EmailSender } from './email-sender';

/** The SMTP adapter of the email port (nodemailer): a 5xx answer is permanent, anything else may succeed on another attempt. */
export function createSmtpEmailSender(smtp: { readonly url: string; readonly from: string }, timeoutMs: number): EmailSender {
  const transport = nodemailer.createTransport({ url: smtp.url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  return {
    async send(message: EmailMessage) {
      try {
        await transport.sendMail({ from: smtp.from, to: [...message.to], subject: message.subject, text: message.text, headers: { ...message.headers } });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        if (code !== undefined && code >= 500) throw new PermanentEmailError(error instanceof Error ? error.message : String(error));
        throw error;
      }
    },
    async close() {
      transport.close();
    },
  };
}
