// An allow-list the OpenAPI document shows as an enum while requests are not validated against it: the check stays
// where it answers its own error code (UNKNOWN_METRIC, UNKNOWN_DIMENSION, a 404 for an unknown dataset), which a
// schema enum would turn into a bare BAD_REQUEST. Validation ignores the keyword (query/api/validators.ts declares
// it); the document turns it into `enum` (query/api/openapi.ts).
export const DOCUMENTED_ENUM = 'x-documented-enum';

export const documentedEnum = <S extends object>(values: readonly string[], schema: S): S & { [DOCUMENTED_ENUM]: string[] } => ({
  ...schema,
  [DOCUMENTED_ENUM]: [...values],
});
