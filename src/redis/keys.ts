/**
 * Key names under an operator's prefix (`keyPrefix`, e.g. `ofb-edge:`), for every topology.
 *
 * Redis Cluster hashes each key to one of 16 384 slots, and a script, a `MULTI` or a multi-key command must
 * touch keys of one slot only (`CROSSSLOT` otherwise). Only the part between the first `{` and the next `}` is
 * hashed when there is one (the hash tag; Redis Cluster specification, "Hash tags"). So:
 * - {@link Keyspace.key}: a key used alone (`GET`, `SET NX PX`, a lock, a hash and its `PEXPIRE`): no tag, so such
 *   keys spread over the cluster's nodes;
 * - {@link Keyspace.group}: keys that one script or transaction touches together share the tag `{<tag>}`
 *   right after the prefix, so they land in one slot. Keep a group small in purpose (one snapshot's keys, one
 *   idempotency record and its in-flight marker), since a group lives on one node.
 *
 * The prefix stays the first characters of every key (ACL key patterns such as `~ofb-edge:*` keep working),
 * and two prefixes never share a key or a channel. A prefix may not contain `{` or `}`: the first `{` of a
 * key must be the one a group puts there. On standalone and Sentinel the tags are inert characters.
 */
export interface Keyspace {
  readonly prefix: string;
  /** `<prefix><name>`: a key used on its own, or a pub/sub channel name. */
  key(name: string): string;
  /** The keys of group `tag`: `<prefix>{<tag>}:<name>`, all in one Cluster slot. */
  group(tag: string): KeyGroup;
}

/** Keys sharing one hash tag. */
export interface KeyGroup {
  /** `<prefix>{<tag>}:`, for a script that derives key names itself (they stay in the group's slot). */
  readonly prefix: string;
  key(name: string): string;
}

const BRACES = /[{}]/;

/** The keyspace of `prefix`; throws when the prefix is empty or contains a brace. */
export function keyspace(prefix: string): Keyspace {
  if (typeof prefix !== "string" || !prefix) throw new TypeError("keyPrefix must be a non-empty string");
  if (BRACES.test(prefix)) throw new TypeError(`keyPrefix must not contain '{' or '}' (the edge places Redis Cluster hash tags itself), got '${prefix}'`);
  return {
    prefix,
    key: (name) => `${prefix}${name}`,
    group(tag) {
      // An empty tag ("{}") would make Redis hash the whole key, splitting the group over slots.
      if (!tag || BRACES.test(tag)) throw new TypeError(`a hash tag must be non-empty and free of '{' and '}', got '${tag}'`);
      const head = `${prefix}{${tag}}:`;
      return { prefix: head, key: (name) => `${head}${name}` };
    },
  };
}
