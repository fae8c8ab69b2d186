import type { EdgeErrorCode } from "../errors.js";

/** ICP-Brasil otherName values found in the SubjectAltName (DOC-ICP-04; Resolução 128/2017), when present. */
export interface IcpBrasilOtherNames {
  /** 2.16.76.1.3.3: CNPJ (14 characters, possibly alphanumeric). */
  readonly cnpj: string | null;
  /** 2.16.76.1.3.2: name of the natural person responsible for the certificate. */
  readonly responsibleName: string | null;
  /** 2.16.76.1.3.4: responsible person's fixed 45-character block (birth date, CPF, NIS, RG) plus free text. Personal data: never log. */
  readonly responsibleData: string | null;
  /** 2.16.76.1.3.7: CEI of the company. */
  readonly cei: string | null;
  /** 2.16.76.1.3.8: company name as registered. */
  readonly companyName: string | null;
}

/**
 * The verified participant identity derived from a client certificate (docs/architecture.md §Participant identity).
 */
export interface ParticipantIdentity {
  /** OFB organisation id, from `2.5.4.97` `OFBBR-<id>` or, for certificates issued up to 2022-08-31, `OU`. */
  readonly organisationId: string;
  readonly organisationIdSource: "organizationIdentifier" | "OU";
  /** The `organizationIdentifier` prefix: `OFBBR` (Open Finance) or `OPIBR` (Open Insurance, only when allowed); `null` for a legacy `OU`. */
  readonly organisationIdPrefix: "OFBBR" | "OPIBR" | null;
  /** Software statement id, from `UID` (0.9.2342.19200300.100.1.1). */
  readonly softwareStatementId: string;
  /**
   * CNPJ from `serialNumber` (2.5.4.5) or otherName 2.16.76.1.3.3, as the certificate spells it: 8 to 14
   * characters of `[0-9A-Z]`. Whether its check digits hold is {@link cnpjVerified}.
   */
  readonly cnpj: string | null;
  /**
   * `true` when {@link cnpj} is a valid CNPJ; `false` when the certificate carries none, or one that fails its
   * check digits and was accepted unverified (`policy.cnpj: "flag"`). The participant is identified by
   * organisation id and software statement id, never by an unverified CNPJ.
   */
  readonly cnpjVerified: boolean;
  readonly commonName: string | null;
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  /** RFC 4514 text of the subject / issuer (most specific RDN first). */
  readonly subjectDn: string;
  readonly issuerDn: string;
  /** Uppercase hex, no colons, no leading zero bytes beyond DER's. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly otherNames: IcpBrasilOtherNames | null;
}

export type IdentityResult =
  | { readonly ok: true; readonly identity: ParticipantIdentity }
  | { readonly ok: false; readonly code: EdgeErrorCode; readonly detail: string };
