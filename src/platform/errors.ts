import { API_ERROR_STATUS, type ApiErrorBody, type ApiErrorType } from '../common/api-errors.js';

/** An error a route throws to answer with the platform's envelope and the type's HTTP status. */
export class ApiError extends Error {
  readonly type: ApiErrorType;
  readonly status: number;
  readonly details?: unknown;
  /** Seconds, sent as an integer `Retry-After` header (503/429). */
  readonly retryAfter?: number;

  constructor(type: ApiErrorType, message: string, opts: { details?: unknown; retryAfter?: number } = {}) {
    super(message);
    this.name = 'ApiError';
    this.type = type;
    this.status = API_ERROR_STATUS[type];
    this.details = opts.details;
    this.retryAfter = opts.retryAfter;
  }

  body(): ApiErrorBody {
    const error: ApiErrorBody['error'] = { type: this.type, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export const notFound = (id: string) =>
  new ApiError('ResourceNotFound', `The entity ${id} could not be found`);
export const invalidInput = (message: string) => new ApiError('InvalidInput', message);
export const invalidState = (message: string) => new ApiError('InvalidState', message);
export const permissionDenied = (level: string, project: string) =>
  new ApiError('PermissionDenied', `${level} permission required in ${project} to perform this action`);
