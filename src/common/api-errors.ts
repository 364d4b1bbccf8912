/**
 * The platform's error types and the HTTP status each is sent with (reference: platform-api.md §1.3).
 * Shared by the server, which renders them, and the agent, which classifies them.
 */
export const API_ERROR_STATUS = {
  MalformedJSON: 400,
  BadRequest: 400,
  BadDigest: 400,
  InvalidAuthentication: 401,
  PermissionDenied: 401,
  Unauthorized: 401,
  ForbiddenClient: 403,
  SpendingLimitExceeded: 403,
  ResourceNotFound: 404,
  MethodNotAllowed: 405,
  RequestTimeout: 408,
  Conflict: 409,
  LengthRequired: 411,
  PreconditionFailed: 412,
  InvalidInput: 422,
  InvalidState: 422,
  InvalidType: 422,
  RateLimitConditional: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
} as const;

export type ApiErrorType = keyof typeof API_ERROR_STATUS;

/** The wire envelope of every non-2xx API response. */
export interface ApiErrorBody {
  error: { type: string; message: string; details?: unknown };
}
