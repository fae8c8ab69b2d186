import { randomInt, randomUUID } from "node:crypto";

/** A random UUID v4: software statement ids and authorisation server ids are v4 (2021 production `/participants`). */
export function softwareStatementId(): string {
  return randomUUID();
}

/**
 * A random id shaped like a UUID v5: 57 of 59 OrganisationIds of the 2021 production `/participants` are v5, so the
 * fixture must not let a v4-only validator pass. Random bits with the version nibble set to 5.
 */
export function organisationId(): string {
  const id = randomUUID();
  return `${id.slice(0, 14)}5${id.slice(15)}`;
}

const DV1_WEIGHTS = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const DV2_WEIGHTS = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];

function checkDigit(chars: string, weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    // IN RFB nº 2.229/2024: character value is its ASCII code − 48, so '0'–'9' → 0–9 and 'A'–'Z' → 17–42.
    sum += (chars.charCodeAt(i) - 48) * (weights[i] ?? 0);
  }
  const r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

/** Appends the two CNPJ check digits (IN RFB nº 2.229/2024) to a 12-character base. */
export function withCnpjCheckDigits(base12: string): string {
  if (!/^[0-9A-Z]{12}$/.test(base12)) {
    throw new TypeError(`CNPJ base must be 12 characters of [0-9A-Z], got ${JSON.stringify(base12)}`);
  }
  const dv1 = checkDigit(base12, DV1_WEIGHTS);
  const dv2 = checkDigit(`${base12}${dv1}`, DV2_WEIGHTS);
  return `${base12}${dv1}${dv2}`;
}

/** A random numeric CNPJ of a head office (`0001`) with valid check digits. */
export function randomCnpj(): string {
  const root = String(randomInt(10_000_000, 100_000_000));
  return withCnpjCheckDigits(`${root}0001`);
}

/** The same CNPJ with its last check digit changed, so it fails validation. */
export function withWrongCheckDigit(cnpj: string): string {
  const last = Number(cnpj.slice(-1));
  return `${cnpj.slice(0, -1)}${(last + 1) % 10}`;
}

/** `12345678000195` → `12.345.678/0001-95`; also formats alphanumeric CNPJs. */
export function formatCnpj(cnpj: string): string {
  return `${cnpj.slice(0, 2)}.${cnpj.slice(2, 5)}.${cnpj.slice(5, 8)}/${cnpj.slice(8, 12)}-${cnpj.slice(12)}`;
}
