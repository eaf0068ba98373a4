// The last lines of a container's log for the page, read through the API itself (GET .../pods/NAME/log
// on this server, with its token), so the page sees exactly what `kubectl logs --tail` sees. Read
// with bounded memory: lines are capped, and a stream that will not end is cut off.

import https from 'node:https';
import { LineTail } from './line-tail.js';

export interface LogTail {
  container?: string;
  lines: string[];
  /** Lines cut to MAX_LINE_BYTES. */
  cutLines: number;
  /** The stream was stopped after MAX_READ_BYTES. */
  truncated: boolean;
}

export const TAIL_LINES = 100;
export const MAX_LINE_BYTES = 4096;
const MAX_READ_BYTES = 32 * 1024 * 1024;
const TIMEOUT_MS = 15_000;

export interface SelfApi {
  host: string;
  port: number;
  caPem: string;
  token: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code}`);
  }
}

/** GETs `apiPath` (a pods/log URL) and keeps the last TAIL_LINES lines. */
export function readLogTail(api: SelfApi, apiPath: string): Promise<LogTail> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: api.host, port: api.port, path: apiPath, ca: api.caPem, headers: { Authorization: `Bearer ${api.token}`, Accept: 'text/plain, application/json' }, timeout: TIMEOUT_MS },
      (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (body.length < 64 * 1024) body += d;
          });
          res.on('end', () => reject(new ApiFailure(res.statusCode ?? 500, body)));
          res.on('error', reject);
          return;
        }
        const tail = new LineTail(TAIL_LINES, MAX_LINE_BYTES);
        let read = 0;
        let truncated = false;
        const done = () => {
          const r = tail.result();
          resolve({ lines: r.lines, cutLines: r.cutLines, truncated });
        };
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          tail.push(chunk);
          if (read > MAX_READ_BYTES && !truncated) {
            truncated = true;
            res.destroy();
            done();
          }
        });
        res.on('end', () => !truncated && done());
        res.on('error', (err) => (truncated ? undefined : reject(err)));
      },
    );
    req.on('timeout', () => req.destroy(new Error('the log request timed out')));
    req.on('error', reject);
  });
}
