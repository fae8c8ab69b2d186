/**
 * The OFB operations whose OpenAPI documents (OpenBanking-Brasil/openapi, swagger-apis/) declare the
 * `x-idempotency-key` request header required: payments 3.x–4.x, automatic-payments 1.x–2.x, enrollments 1.x–2.x.
 * Other writes of those APIs do not take it (payments 4.0.0 `PATCH /pix/payments/{paymentId}` has none), so the
 * table names operations, not routes. `{…}` stands for one path segment (the version `v4`, an id).
 */
export const OFB_IDEMPOTENT_OPERATIONS: readonly string[] = [
  // payments 4.0.0 (3.x: the two POSTs only)
  "POST /open-banking/payments/{version}/consents",
  "POST /open-banking/payments/{version}/pix/payments",
  "PATCH /open-banking/payments/{version}/pix/payments/consents/{consentId}",
  // automatic-payments 2.0.0 and 1.0.0
  "POST /open-banking/automatic-payments/{version}/recurring-consents",
  "PATCH /open-banking/automatic-payments/{version}/recurring-consents/{recurringConsentId}",
  "POST /open-banking/automatic-payments/{version}/pix/recurring-payments",
  "PATCH /open-banking/automatic-payments/{version}/pix/recurring-payments/{recurringPaymentId}",
  // enrollments 2.1.0 and 1.0.0
  "POST /open-banking/enrollments/{version}/enrollments",
  "PATCH /open-banking/enrollments/{version}/enrollments/{enrollmentId}",
  "POST /open-banking/enrollments/{version}/enrollments/{enrollmentId}/fido-registration-options",
  "POST /open-banking/enrollments/{version}/enrollments/{enrollmentId}/fido-registration",
  "POST /open-banking/enrollments/{version}/enrollments/{enrollmentId}/fido-sign-options",
  "POST /open-banking/enrollments/{version}/enrollments/{enrollmentId}/risk-signals",
  "POST /open-banking/enrollments/{version}/consents/{consentId}/authorise",
];

/**
 * `METHOD /segment/…`: a method that changes state (RFC 9110 §9.2.2: POST and PATCH are not idempotent; PUT and
 * DELETE are, but a bank may still want their first answer replayed) and a path of non-empty segments, each literal
 * or `{name}`.
 */
export const OPERATION_PATTERN = /^(POST|PUT|PATCH|DELETE) (\/([A-Za-z0-9._~!$&'()*+,;=:@%-]+|\{[A-Za-z][A-Za-z0-9]*\}))+$/;

/** Whether a request (method, path without the query) is one of the operations; built once from the list. */
export type OperationMatcher = (method: string, path: string) => boolean;

/** Compiles the operation list into one matcher: per method, the templates as segment lists. */
export function compileOperations(operations: readonly string[]): OperationMatcher {
  const byMethod = new Map<string, (readonly (string | null)[])[]>();
  for (const op of operations) {
    if (!OPERATION_PATTERN.test(op)) throw new TypeError(`not an operation ('METHOD /path'): ${op}`);
    const space = op.indexOf(" ");
    const segments = op
      .slice(space + 2)
      .split("/")
      .map((s) => (s.startsWith("{") ? null : s));
    const list = byMethod.get(op.slice(0, space)) ?? [];
    list.push(segments);
    byMethod.set(op.slice(0, space), list);
  }
  return (method, path) => {
    const templates = byMethod.get(method);
    if (!templates || path.charCodeAt(0) !== 0x2f) return false;
    // A trailing slash names the same operation for routing purposes here: `/pix/payments/` is still a payment.
    const segments = (path.endsWith("/") ? path.slice(1, -1) : path.slice(1)).split("/");
    return templates.some((t) => t.length === segments.length && t.every((s, i) => (s === null ? segments[i]!.length > 0 : s === segments[i])));
  };
}
