import type { NextFunction, Request, Response } from 'express';
import type { RouteSpec } from '../../src/api/route';
import type { SchemaRegistry } from '../../src/api/schema-registry';

interface Compiled {
  readonly route: RouteSpec;
  readonly pattern: RegExp;
}

/**
 * Test-only middleware: every response the app sends is checked against the
 * schema its route declares (problem+json bodies against Problem). Violations
 * are collected and fail the test file when the harness closes.
 */
export function responseValidator(routes: readonly RouteSpec[], schemas: SchemaRegistry, violations: string[]) {
  const compiled: Compiled[] = routes.map((route) => ({
    route,
    pattern: new RegExp(`^/api${route.path.replace(/\{\w+\}/g, '[^/]+')}$`),
  }));
  return (req: Request, res: Response, next: NextFunction): void => {
    const send = res.send.bind(res);
    let sent = false;
    res.send = (body?: unknown) => {
      sent = true;
      check(req, res, body);
      return send(body);
    };
    // A body streamed in its own media type (a zip, an event stream) never passes through send().
    res.on('finish', () => {
      if (!sent) checkStreamed(req, res);
    });
    next();
  };

  function checkStreamed(req: Request, res: Response): void {
    const path = req.originalUrl.split('?')[0] ?? '';
    const match = compiled.find((c) => c.route.method === req.method.toLowerCase() && c.pattern.test(path));
    if (!match?.route.produces || !req.originalUrl.startsWith('/api/')) return;
    const where = `${req.method} ${path} → ${res.statusCode}`;
    if (!(res.statusCode in match.route.responses)) violations.push(`${where}: status not declared for ${match.route.operationId}`);
    else if (!String(res.getHeader('content-type') ?? '').startsWith(match.route.produces)) violations.push(`${where}: not ${match.route.produces}`);
  }

  function check(req: Request, res: Response, body: unknown): void {
    if (!req.originalUrl.startsWith('/api/')) return;
    const path = req.originalUrl.split('?')[0] ?? '';
    const match = compiled.find((c) => c.route.method === req.method.toLowerCase() && c.pattern.test(path));
    const status = res.statusCode;
    const contentType = String(res.getHeader('content-type') ?? '');
    const where = `${req.method} ${path} → ${status}`;
    if (status >= 400) {
      if (!contentType.includes('application/problem+json')) violations.push(`${where}: error without problem+json`);
      else report(where, schemas.validateResponse('common#/$defs/Problem', parse(body)));
      return;
    }
    if (!match) return;
    if (!(status in match.route.responses)) {
      violations.push(`${where}: status not declared for ${match.route.operationId}`);
      return;
    }
    const ref = match.route.responses[status];
    if (ref && !match.route.produces) report(where, schemas.validateResponse(ref, parse(body)));
  }

  function report(where: string, errors: { path: string; message: string }[]): void {
    if (errors.length > 0) violations.push(`${where}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
  }
}

function parse(body: unknown): unknown {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  }
  return Buffer.isBuffer(body) ? JSON.parse(body.toString('utf8')) : body;
}
