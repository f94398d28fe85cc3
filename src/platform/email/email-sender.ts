/**
 * The email port of notifications. The composition root wires an SMTP
 * adapter when SMTP_URL is set (docs/notifications.md); without one, EMAIL
 * channels cannot be created and their deliveries fail as "SMTP is not
 * configured".
 */
export interface EmailMessage {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  /** Extra headers, e.g. the delivery id for the receiver's de-duplication. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface EmailSender {
  /** Resolves once the SMTP server accepted the message for every recipient; rejects otherwise. */
  send(message: EmailMessage): Promise<void>;
  close(): Promise<void>;
}

/** A refusal that another attempt cannot change (an SMTP 5xx for the message or its recipients). */
export class PermanentEmailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentEmailError';
  }
}
