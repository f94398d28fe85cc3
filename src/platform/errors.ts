/**
 * The one family of errors that code throws on purpose. Each maps to an HTTP
 * status and carries a stable code from the closed catalogue below, which
 * appears in every problem+json body and log line.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  INVALID_CURSOR: 400,
  // An aggregation over more buckets × sensors than its limit: refused before it runs (the body suggests a bucket).
  TOO_MANY_POINTS: 400,
  UNPROCESSABLE: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  CSR_INVALID: 400,
  CSR_KEY_REJECTED: 422,
  UNAUTHENTICATED: 401,
  INVALID_API_KEY: 401,
  INVALID_TOKEN: 401,
  FORBIDDEN: 403,
  INSUFFICIENT_ROLE: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  ORGANIZATION_NOT_FOUND: 404,
  API_KEY_NOT_FOUND: 404,
  SITE_NOT_FOUND: 404,
  SENSOR_PROFILE_NOT_FOUND: 404,
  DEVICE_PROFILE_NOT_FOUND: 404,
  DEVICE_NOT_FOUND: 404,
  COMPONENT_NOT_FOUND: 404,
  SENSOR_NOT_FOUND: 404,
  DEVICE_SERIAL_TAKEN: 409,
  DEVICE_DECOMMISSIONED: 409,
  COMPONENT_KEY_TAKEN: 409,
  SENSOR_KEY_TAKEN: 409,
  DEVICE_GROUP_NOT_FOUND: 404,
  GROUP_MEMBER_NOT_FOUND: 404,
  CONFIG_ARTEFACT_NOT_FOUND: 404,
  CONFIG_ARTEFACT_VERSION_NOT_FOUND: 404,
  CONFIG_ARTEFACT_NAME_TAKEN: 409,
  // Archived artefacts keep their versions readable but take no new ones.
  CONFIG_ARTEFACT_ARCHIVED: 409,
  DESIRED_STATE_BINDING_NOT_FOUND: 404,
  // Notification channels (docs/notifications.md): a URL refused by the SSRF rules, EMAIL without SMTP, a config of another type.
  NOTIFICATION_CHANNEL_NOT_FOUND: 404,
  NOTIFICATION_URL_REFUSED: 422,
  SMTP_NOT_CONFIGURED: 422,
  NOTIFICATION_CHANNEL_TYPE_MISMATCH: 422,
  // Alerting (docs/alerting.md).
  ALERT_RULE_NOT_FOUND: 404,
  ALERT_NOT_FOUND: 404,
  ALERT_RESOLVED: 409,
  // Exports (docs/exports.md): a download URL altered, expired or of another export is refused alike; 416 for a Range past the end.
  EXPORT_NOT_FOUND: 404,
  EXPORT_SCOPE_NOT_FOUND: 404,
  EXPORT_RANGE_INVALID: 400,
  EXPORT_DOWNLOAD_FORBIDDEN: 403,
  EXPORT_RANGE_NOT_SATISFIABLE: 416,
  // Analytics (docs/analytics.md): a class still used by annotations cannot be deleted or lose a scope type they use.
  ANNOTATION_CLASS_NOT_FOUND: 404,
  ANNOTATION_CLASS_NAME_TAKEN: 409,
  ANNOTATION_CLASS_IN_USE: 409,
  ANNOTATION_NOT_FOUND: 404,
  REFERENCE_PAIR_NOT_FOUND: 404,
  REFERENCE_PAIR_NOT_MANUAL: 409,
  // Packs (docs/packs.md).
  PACK_NOT_FOUND: 404,
  PACK_VERSION_NOT_FOUND: 404,
  PACK_INSTALLATION_NOT_FOUND: 404,
  PACK_ALREADY_INSTALLED: 409,
  // Dashboards (docs/dashboards.md): a site's default must stay shared and on its site.
  DASHBOARD_NOT_FOUND: 404,
  DEFAULT_DASHBOARD_NOT_SET: 404,
  DASHBOARD_IS_SITE_DEFAULT: 409,
  // Device commands (docs/commands.md). The last six refuse a step that does not fit the command's status or time.
  COMMAND_NOT_FOUND: 404,
  COMMAND_BATCH_NOT_FOUND: 404,
  COMMAND_NOT_CANCELLABLE: 409,
  COMMAND_OF_ANOTHER_DEVICE: 404,
  COMMAND_NOT_QUEUED: 409,
  COMMAND_NOT_SENT: 409,
  COMMAND_FINISHED: 409,
  COMMAND_NOT_DUE: 409,
  COMMAND_PAST_EXPIRY: 409,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  CONCURRENT_MODIFICATION: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  API_KEY_REVOKED: 409,
  GROUP_IS_DYNAMIC: 409,
  REGISTRATION_TOKEN_NOT_FOUND: 404,
  DEVICE_CERTIFICATE_NOT_FOUND: 404,
  QUARANTINE_ENTRY_NOT_FOUND: 404,
  // Released or discarded: a decision on a quarantined reading is final.
  QUARANTINE_ENTRY_RESOLVED: 409,
  // A release re-runs the checks; the entry still fails them and stays quarantined.
  QUARANTINE_STILL_FAILING: 422,
  // A device renews at most once per interval unless it repeats its pending request (docs/mqtt.md).
  CERTIFICATE_RENEWAL_TOO_SOON: 429,
  // The token is the credential of /devices/provision: a bad, revoked or expired one fails authentication.
  REGISTRATION_TOKEN_INVALID: 401,
  REGISTRATION_TOKEN_REVOKED: 401,
  REGISTRATION_TOKEN_EXPIRED: 401,
  REGISTRATION_TOKEN_USED: 409,
  PRECONDITION_FAILED: 412,
  PRECONDITION_REQUIRED: 428,
  PAYLOAD_TOO_LARGE: 413,
  // Refused by Node's HTTP parser before any route (src/api/client-errors.ts).
  MALFORMED_REQUEST: 400,
  REQUEST_TIMEOUT: 408,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  QUERY_TIMEOUT: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors: readonly FieldError[] = [],
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_CODES[code];
  }
}

export class ValidationError extends AppError {
  constructor(message: string, errors: readonly FieldError[] = [], code: ErrorCode = 'VALIDATION_FAILED') {
    super(code, message, errors);
  }
}
export class NotFoundError extends AppError {
  constructor(code: ErrorCode = 'NOT_FOUND', message = 'The resource does not exist.') {
    super(code, message);
  }
}
export class ConflictError extends AppError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}
export class UnauthenticatedError extends AppError {
  constructor(code: ErrorCode = 'UNAUTHENTICATED', message = 'Authentication is required.') {
    super(code, message);
  }
}
export class ForbiddenError extends AppError {
  constructor(code: ErrorCode = 'FORBIDDEN', message = 'You may not do this.') {
    super(code, message);
  }
}
