/**
 * CNPJ check digits, numeric and alphanumeric (IN RFB nº 2.229/2024).
 *
 * Only the check digits decide: Banco do Brasil's root is `00000000` (`00000000000191` is valid), so
 * repeated-digit numbers are not rejected as a class.
 */

// IN RFB nº 2.229/2024: 8 root + 4 establishment characters in [0-9A-Z], then 2 numeric check digits.
const CNPJ_FORMAT = /^[0-9A-Z]{12}[0-9]{2}$/;
const DV1_WEIGHTS = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2] as const;
const DV2_WEIGHTS = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2] as const;

// IN RFB nº 2.229/2024: a character's value is its ASCII code − 48; DV = 0 if Σ mod 11 < 2, else 11 − r.
function checkDigit(characters: string, weights: readonly number[]): number {
  let sum = 0;
  weights.forEach((weight, index) => {
    sum += (characters.charCodeAt(index) - 48) * weight;
  });
  const remainder = sum % 11;
  return remainder < 2 ? 0 : 11 - remainder;
}

/**
 * `true` when `value` is exactly 14 characters `^[0-9A-Z]{12}[0-9]{2}$` whose last two are the mod-11
 * check digits of the rest (both `11222333000181` and `12ABC34501DE35` are valid). No punctuation,
 * no lowercase: certificates carry the bare 14 characters; use {@link normaliseCnpj} for human input.
 */
export function isValidCnpj(value: string): boolean {
  if (!CNPJ_FORMAT.test(value)) return false;
  const dv1 = checkDigit(value, DV1_WEIGHTS);
  const dv2 = checkDigit(value.slice(0, 12) + String(dv1), DV2_WEIGHTS);
  return value.slice(12) === `${dv1}${dv2}`;
}

/**
 * Strips the punctuation of the printed form (`.`, `/`, `-`) and nothing else:
 * `11.222.333/0001-81` → `11222333000181`. The result still needs {@link isValidCnpj}.
 */
export function normaliseCnpj(input: string): string {
  return input.replace(/[./-]/g, "");
}

/** What the edge does with a certificate CNPJ that fails its check digits (`policy.cnpj`). */
export type CnpjPolicy = "flag" | "refuse";

// The CNPJ alphabet, from the 8-character root (raiz) up to the full 14 characters.
const CNPJ_SHAPE = /^[0-9A-Z]{8,14}$/;

/**
 * How far a CNPJ read from a certificate can be trusted, judged on the certificate's own characters (nothing
 * stripped, nothing case-folded):
 * - `verified`: a valid CNPJ ({@link isValidCnpj});
 * - `unverified`: 8 to 14 characters of `[0-9A-Z]` that are not a valid CNPJ (wrong check digits, or a root
 *   with a truncated establishment): the shape of a mistyped CNPJ, which the OFB sandbox's own client
 *   certificates carry (`1335323600189`, 13 digits, the sandbox Directory's "13.353.236/001-89");
 * - `malformed`: anything else (punctuation, spaces, lower case, fewer than 8 or more than 14 characters).
 *   No policy accepts it: it is not a CNPJ at all.
 */
export function cnpjStatus(value: string): "verified" | "unverified" | "malformed" {
  if (isValidCnpj(value)) return "verified";
  return CNPJ_SHAPE.test(value) ? "unverified" : "malformed";
}

/** The 8-character root (raiz) shared by all establishments of one company: `11222333000181` → `11222333`. */
export function cnpjRoot(cnpj: string): string {
  return cnpj.slice(0, 8);
}
