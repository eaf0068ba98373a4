// Requests Node's HTTP parser refuses before express sees them (a request line or headers past the
// 16 KiB limit, e.g. thousands of query parameters; a malformed request line) still get a Kubernetes
// Status body, as every other error does, instead of Node's bare status line.

import type { Duplex } from 'node:stream';
import type { Status } from '../api/types.js';

/** The raw HTTP response for a parser error, or undefined when the connection should just be closed. */
export function clientErrorResponse(code: string | undefined): string | undefined {
  let status: Status;
  if (code === 'HPE_HEADER_OVERFLOW') {
    status = statusOf(431, 'RequestHeaderFieldsTooLarge', 'the request line and headers are larger than 16 KiB (too many or too long query parameters or headers)');
  } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = statusOf(408, 'Timeout', 'the request was not received in time');
  } else if (code?.startsWith('HPE_')) {
    status = statusOf(400, 'BadRequest', `the request could not be parsed as HTTP (${code})`);
  } else return undefined;
  const body = JSON.stringify(status);
  const phrase = status.code === 431 ? 'Request Header Fields Too Large' : status.code === 408 ? 'Request Timeout' : 'Bad Request';
  return `HTTP/1.1 ${status.code} ${phrase}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function statusOf(code: number, reason: string, message: string): Status {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message, reason, code };
}

/** `server.on('clientError', onClientError)`: answers with a Status where a response can still be written. */
export function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  const response = clientErrorResponse(err.code);
  // ECONNRESET and friends: the peer is gone; a socket mid-response cannot take another status line.
  if (!response || !socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
    socket.destroy();
    return;
  }
  socket.end(response);
}
