import type { NextFunction, Request, Response } from 'express';
import { AppError, ERROR_CODES, type ErrorCode, type FieldError } from '../platform/errors';
import type { Logger } from '../platform/logger';

const TITLES: Partial<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: readonly FieldError[];
  [extra: string]: unknown;
}

export function problemBody(code: ErrorCode, detail: string, errors: readonly FieldError[] = [], extra: Record<string, unknown> = {}): ProblemBody {
  const status = ERROR_CODES[code];
  return {
    type: `urn:iotplane:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(errors.length > 0 ? { errors } : {}),
    ...extra,
  };
}

export function sendProblem(res: Response, body: ProblemBody): void {
  res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/** Errors from body parsing that Express raises itself. */
function fromHttpError(error: { type?: string; status?: number; statusCode?: number }): ProblemBody | undefined {
  if (error.type === 'entity.parse.failed') return problemBody('MALFORMED_JSON', 'The request body is not valid JSON.');
  if (error.type === 'entity.too.large') return problemBody('PAYLOAD_TOO_LARGE', 'The request body is too large.');
  if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported') {
    return problemBody('UNSUPPORTED_MEDIA_TYPE', 'The request body encoding is not supported.');
  }
  const status = error.status ?? error.statusCode;
  if (status === 400) return problemBody('VALIDATION_FAILED', 'The request could not be read.');
  return undefined;
}

/** The one error middleware: problem+json for everything; only 5xx are logged as errors. */
export function problemHandler(log: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    let body: ProblemBody;
    if (error instanceof AppError) {
      body = problemBody(error.code, error.message, error.errors, error.extra);
    } else if (error && typeof error === 'object' && fromHttpError(error)) {
      body = fromHttpError(error) as ProblemBody;
    } else if (isStatementTimeout(error)) {
      body = problemBody('QUERY_TIMEOUT', 'The query took too long; narrow the range or use a coarser aggregation.');
    } else {
      body = problemBody('INTERNAL', 'An unexpected error occurred.');
    }
    if (body.status >= 500) log.error({ err: error, code: body.code, path: req.path, requestId: req.header('x-request-id') }, 'request failed');
    else log.debug({ code: body.code, path: req.path }, 'request refused');
    if (res.headersSent) return;
    sendProblem(res, body);
  };
}

function isStatementTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === '57014';
}
