// One catalog of error codes for both HTTP services, the API and collect. docs/errors.md lists the same codes;
// test/api-basics.test.ts keeps them in step.
export const ERRORS = {
  BAD_REQUEST: { status: 400, message: 'The request does not match the schema of this endpoint.' },
  BAD_WEBHOOK: { status: 400, message: 'The webhook body is not a JSON object with an "object" field.' },
  INVALID_DATE_RANGE: { status: 400, message: 'The date range is invalid: from must be on or before to, both YYYY-MM-DD.' },
  DATE_RANGE_TOO_LONG: { status: 400, message: 'The date range is longer than this endpoint allows.' },
  RESULT_TOO_LARGE: {
    status: 400,
    message: 'The query would hold more groups than allowed; narrow the date range or the dimensions, or use a coarser time dimension.',
  },
  UNKNOWN_METRIC: { status: 400, message: 'A metric is not one of the defined metrics.' },
  UNKNOWN_DIMENSION: { status: 400, message: 'A dimension or filter dimension is not one of the allowed dimensions.' },
  INVALID_REGIMES: { status: 400, message: 'The regime table is invalid: ranges must be well formed and must not overlap within a channel.' },
  UNKNOWN_REGIME: { status: 400, message: 'No regime of that name on that channel in the regime table.' },
  MALFORMED_REQUEST: { status: 400, message: 'The request is not well-formed HTTP.' },
  BAD_URL: { status: 400, message: 'The URL cannot be read: a percent-escape in its path does not spell UTF-8 text.' },
  UNAUTHORIZED: { status: 401, message: 'A valid API key is required: send it as "Authorization: Bearer <key>".' },
  BAD_SIGNATURE: {
    status: 401,
    message: 'The X-Hub-Signature-256 header is missing or is not the HMAC-SHA256 of the body with the configured app secret.',
  },
  FORBIDDEN: { status: 403, message: 'This API key’s role may not use this endpoint.' },
  VERIFY_TOKEN_MISMATCH: { status: 403, message: 'The verification request is not hub.mode=subscribe with the configured verify token.' },
  NOT_FOUND: { status: 404, message: 'No such endpoint or resource.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This endpoint does not take that method; the Allow header lists the ones it takes.' },
  EXPORT_SECRET_MISSING: { status: 409, message: 'Exports of identifiers need POLICYLENS_EXPORT_SECRET to pseudonymise them; it is not set.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request did not arrive in time.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than allowed.' },
  TOO_MANY_EVENTS: { status: 413, message: 'The request holds more events than one request may.' },
  URL_TOO_LONG: { status: 414, message: 'A part of the URL path is longer than allowed (100 characters).' },
  UNSUPPORTED_ENCODING: { status: 415, message: 'The Content-Encoding is not one this endpoint takes (gzip or identity).' },
  INSUFFICIENT_DATA: { status: 422, message: 'There is not enough data for this analysis in the requested window.' },
  NO_CONTROL_GROUP: {
    status: 422,
    message: 'The method needs a control channel with no regime boundary inside the window, and there is none.',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'Too many requests for this API key, or from this address without a valid key; retry after the time in the Retry-After header.',
  },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are larger than allowed.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side; the server log has the details.' },
  WAREHOUSE_UNAVAILABLE: { status: 503, message: 'The warehouse is not reachable right now; retry later.' },
  EXPORTS_BUSY: {
    status: 503,
    message: 'As many exports as this server runs at once are running; retry after the time in the Retry-After header.',
  },
  KAFKA_UNAVAILABLE: {
    status: 503,
    message: 'Kafka did not acknowledge the request, so it is not accepted: send it again after the time in the Retry-After header.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ? `${ERRORS[code].message} ${detail}` : ERRORS[code].message);
    this.code = code;
    this.statusCode = ERRORS[code].status;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export const errorBody = (code: ErrorCode, message: string = ERRORS[code].message): ErrorBody => ({ error: { code, message } });

/** The response schema every 4xx/5xx shares, for the OpenAPI document. */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', enum: Object.keys(ERRORS) }, message: { type: 'string' } },
    },
  },
} as const;
