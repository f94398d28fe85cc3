import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { problemBody, type ProblemBody } from './problem';

function problemFor(code: string | undefined): ProblemBody {
  if (code === 'HPE_HEADER_OVERFLOW') return problemBody('HEADERS_TOO_LARGE', 'The request line and headers exceed 16 KB.');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return problemBody('REQUEST_TIMEOUT', 'The request was not received in time.');
  return problemBody('MALFORMED_REQUEST', 'The request is not valid HTTP/1.1.');
}

/**
 * What Node's HTTP parser refuses before Express sees it (a URL or headers
 * over 16 KB, a malformed request line, a request sent too slowly) is
 * answered with problem+json too, instead of Node's bare status line, and
 * the connection closed.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = problemFor(error.code);
    const text = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${body.status} ${body.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  });
}
