/** What the message-signing stage does on a request: verify its JWS body, and also sign the response, or nothing. */
export type SigningMode = "verify" | "verify-and-sign" | "off";

/**
 * The OFB API families whose request and response bodies are signed messages (`application/jwt`), from the API
 * contract (`OpenBanking-Brasil/openapi`, as of 2025-12): payments 4.0.0 (`/open-banking/payments/v4`: payment
 * consents and Pix payments), automatic-payments 2.0.0 (recurring consents and recurring Pix payments),
 * enrollments 2.1.0 (payments without redirect), credit-portability 1.0.0 and payroll-credit-portability 1.0.0.
 * Each declares `application/jwt` for every request body and every successful response, and says "todas as
 * requisições e respostas devem ser assinadas" (payments 4.0.0, automatic-payments 2.0.0).
 */
export const SIGNED_FAMILIES: readonly string[] = ["payments", "automatic-payments", "enrollments", "credit-portability", "payroll-credit-portability"];

const OPEN_BANKING = "/open-banking/";

/** The API family of an `/open-banking/<family>/…` path, or null for any other path. */
export function familyOf(path: string): string | null {
  if (!path.startsWith(OPEN_BANKING)) return null;
  const end = path.indexOf("/", OPEN_BANKING.length);
  return path.slice(OPEN_BANKING.length, end < 0 ? undefined : end);
}

/**
 * The mode for one request: the route's own, or — when the route does not say — the built-in table: a family of
 * {@link SIGNED_FAMILIES} is `verify-and-sign` when the edge has a response signing key (`verify` otherwise), any
 * other path `off`. `tableDefault` is null when no `messageSigning` section is configured (then unset is `off`).
 */
export function signingModeFor(routeMode: SigningMode | undefined, path: string, tableDefault: Exclude<SigningMode, "off"> | null): SigningMode {
  if (routeMode !== undefined) return routeMode;
  if (tableDefault === null) return "off";
  const family = familyOf(path);
  return family !== null && SIGNED_FAMILIES.includes(family) ? tableDefault : "off";
}

/** Whether a route with this path prefix can serve a path of a signed family (then, by default, it verifies). */
export function prefixMayServeSignedFamily(pathPrefix: string): boolean {
  return SIGNED_FAMILIES.some((family) => {
    const base = `${OPEN_BANKING}${family}/`;
    return base.startsWith(pathPrefix) || pathPrefix.startsWith(base) || pathPrefix === base.slice(0, -1);
  });
}
