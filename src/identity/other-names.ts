import type { GeneralName } from "@peculiar/asn1-x509";
import { EdgeError } from "../errors.js";
import { DER_TAG, decodeDerString } from "../pki/der-string.js";
import type { IcpBrasilOtherNames } from "./types.js";

/** ICP-Brasil otherName type ids read from the SubjectAltName (DOC-ICP-04; Resolução CG ICP-Brasil 128/2017). */
export const ICP_BRASIL_OTHER_NAME = {
  responsibleName: "2.16.76.1.3.2",
  cnpj: "2.16.76.1.3.3",
  responsibleData: "2.16.76.1.3.4",
  cei: "2.16.76.1.3.7",
  companyName: "2.16.76.1.3.8",
} as const satisfies Record<keyof IcpBrasilOtherNames, string>;

type Field = keyof IcpBrasilOtherNames;

const FIELD_BY_OID: ReadonlyMap<string, Field> = new Map(
  Object.entries(ICP_BRASIL_OTHER_NAME).map(([field, oid]) => [oid, field as Field]),
);

// Our reading of issued e-CNPJ and equipment certificates: about two thirds of the values are OCTET STRING,
// the rest PrintableString; the OFB sandbox uses UTF8String. IA5String is accepted as the other ASCII type.
const OTHER_NAME_TAGS: ReadonlySet<number> = new Set([
  DER_TAG.octetString,
  DER_TAG.printableString,
  DER_TAG.utf8String,
  DER_TAG.ia5String,
]);

// Names are free text; the numeric blocks (3.3, 3.4, 3.7) are positional, so only trailing padding goes.
function tidy(field: Field, text: string): string {
  return field === "responsibleName" || field === "companyName" ? text.trim() : text.replace(/ +$/, "");
}

/**
 * Reads the ICP-Brasil otherNames (2.16.76.1.3.2, .3, .4, .7, .8) from SubjectAltName entries by OID,
 * in any order and mixed with other GeneralNames, as issued certificates have them. Values are text, never
 * numbers: an RG can be alphanumeric and a CNPJ can be alphanumeric (IN RFB nº 2.229/2024).
 *
 * @returns `null` when none of the five is present.
 * @throws EdgeError `CERT_MALFORMED` when a value is not a decodable OCTET STRING, PrintableString,
 * UTF8String or IA5String, or when one type id appears twice with different values (ambiguous identity).
 */
export function readIcpBrasilOtherNames(names: readonly GeneralName[]): IcpBrasilOtherNames | null {
  const found = new Map<Field, string>();
  for (const { otherName } of names) {
    if (otherName === undefined) continue;
    const field = FIELD_BY_OID.get(otherName.typeId);
    if (field === undefined) continue;
    const text = decodeDerString(new Uint8Array(otherName.value), OTHER_NAME_TAGS);
    if (text === null) {
      throw new EdgeError("CERT_MALFORMED", "identity", `otherName ${otherName.typeId} is not a decodable string`);
    }
    const value = tidy(field, text);
    const previous = found.get(field);
    if (previous !== undefined && previous !== value) {
      throw new EdgeError("CERT_MALFORMED", "identity", `otherName ${otherName.typeId} appears with different values`);
    }
    found.set(field, value);
  }
  if (found.size === 0) return null;
  return Object.freeze({
    cnpj: found.get("cnpj") ?? null,
    responsibleName: found.get("responsibleName") ?? null,
    responsibleData: found.get("responsibleData") ?? null,
    cei: found.get("cei") ?? null,
    companyName: found.get("companyName") ?? null,
  });
}
