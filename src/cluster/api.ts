// Small HTTPS requests to a node's API while it comes up: before the cluster's CA is known (readiness,
// fetching the kubeconfig from an address on the cluster's own bridge) and after.

import https from 'node:https';

export interface ApiRequest {
  token?: string;
  /** Verify the server against this CA; without it the certificate is not checked. */
  caPem?: string;
  servername?: string;
  timeoutMs?: number;
}

export function apiGet(url: string, o: ApiRequest = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
        ca: o.caPem,
        rejectUnauthorized: o.caPem !== undefined,
        servername: o.servername,
        timeout: o.timeoutMs ?? 2000,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${o.timeoutMs ?? 2000} ms`)));
    req.on('error', reject);
  });
}
