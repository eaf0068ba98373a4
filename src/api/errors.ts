// Errors are API objects: every failure a component raises is a StatusError carrying the Kubernetes
// Status it becomes on the wire, so the REST layer never has to guess a code and kubectl prints
// `message` exactly as it would from a real API server.

import type { Status, StatusCause } from './types.js';
import type { ResourceInfo } from './resources.js';
import { qualifiedPlural } from './resources.js';

export class StatusError extends Error {
  readonly status: Status;
  constructor(status: Omit<Status, 'apiVersion' | 'kind' | 'metadata' | 'status'> & { message: string }) {
    super(status.message);
    this.name = 'StatusError';
    this.status = { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', ...status };
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export function isStatusError(e: unknown, reason?: string): e is StatusError {
  return e instanceof StatusError && (reason === undefined || e.status.reason === reason);
}

/** Kubernetes' "causes" are rendered one per line as `field: message`. */
export function causeLine(c: StatusCause): string {
  return c.field ? `${c.field}: ${c.message}` : `${c.message}`;
}

function qualified(res: ResourceInfo | string): string {
  return typeof res === 'string' ? res : qualifiedPlural(res);
}

function groupKind(res: ResourceInfo | string): { group?: string; kind: string } {
  return typeof res === 'string' ? { kind: res } : { group: res.group || undefined, kind: res.plural };
}

export const errors = {
  notFound(res: ResourceInfo | string, name: string): StatusError {
    return new StatusError({ code: 404, reason: 'NotFound', message: `${qualified(res)} "${name}" not found`, details: { name, ...groupKind(res) } });
  },
  alreadyExists(res: ResourceInfo | string, name: string): StatusError {
    return new StatusError({ code: 409, reason: 'AlreadyExists', message: `${qualified(res)} "${name}" already exists`, details: { name, ...groupKind(res) } });
  },
  conflict(res: ResourceInfo | string, name: string, why: string): StatusError {
    return new StatusError({
      code: 409,
      reason: 'Conflict',
      message: `Operation cannot be fulfilled on ${qualified(res)} "${name}": ${why}`,
      details: { name, ...groupKind(res) },
    });
  },
  staleResourceVersion(res: ResourceInfo | string, name: string): StatusError {
    return errors.conflict(res, name, 'the object has been modified; please apply your changes to the latest version and try again');
  },
  /** 422 with one cause per invalid field; message lists them as Kubernetes does. */
  invalid(kind: string, name: string, causes: StatusCause[], group?: string): StatusError {
    const list = causes.map(causeLine);
    const message = `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`;
    return new StatusError({ code: 422, reason: 'Invalid', message, details: { name, group, kind, causes } });
  },
  badRequest(message: string, causes?: StatusCause[]): StatusError {
    return new StatusError({ code: 400, reason: 'BadRequest', message, details: causes ? { causes } : undefined });
  },
  unauthorized(message = 'Unauthorized'): StatusError {
    return new StatusError({ code: 401, reason: 'Unauthorized', message });
  },
  forbidden(res: ResourceInfo | string, name: string, why: string): StatusError {
    return new StatusError({ code: 403, reason: 'Forbidden', message: `${qualified(res)} "${name}" is forbidden: ${why}`, details: { name, ...groupKind(res) } });
  },
  methodNotAllowed(message: string): StatusError {
    return new StatusError({ code: 405, reason: 'MethodNotAllowed', message });
  },
  notAcceptable(message: string): StatusError {
    return new StatusError({ code: 406, reason: 'NotAcceptable', message });
  },
  unsupportedMediaType(contentType: string): StatusError {
    return new StatusError({ code: 415, reason: 'UnsupportedMediaType', message: `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json, application/apply-patch+yaml (got ${JSON.stringify(contentType)})` });
  },
  gone(message: string): StatusError {
    return new StatusError({ code: 410, reason: 'Expired', message });
  },
  tooLarge(message: string): StatusError {
    return new StatusError({ code: 413, reason: 'RequestEntityTooLarge', message });
  },
  timeout(message: string): StatusError {
    return new StatusError({ code: 504, reason: 'Timeout', message });
  },
  serviceUnavailable(message: string): StatusError {
    return new StatusError({ code: 503, reason: 'ServiceUnavailable', message });
  },
  internal(message: string): StatusError {
    return new StatusError({ code: 500, reason: 'InternalError', message: `Internal error occurred: ${message}` });
  },
};

export function successStatus(details?: Status['details']): Status {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', code: 200, details };
}
