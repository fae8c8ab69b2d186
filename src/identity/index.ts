/**
 * Participant identity from a client certificate, read by OID (OFB certificate standard 2.1). Pure: no sockets, no
 * clock.
 */
export { cnpjRoot, cnpjStatus, isValidCnpj, normaliseCnpj } from "./cnpj.js";
export type { CnpjPolicy } from "./cnpj.js";
export { attributeValues, formatDn, readName } from "./dn.js";
export type { DistinguishedName, DnAttribute, DnFormat, NameInput } from "./dn.js";
export { ICP_BRASIL_OTHER_NAME, readIcpBrasilOtherNames } from "./other-names.js";
export { parseIdentity } from "./parse.js";
export type { ParseIdentityOptions } from "./parse.js";
export type { IcpBrasilOtherNames, IdentityResult, ParticipantIdentity } from "./types.js";
