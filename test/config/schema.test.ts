import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../src/config/json-schema.js";
import { parseConfig } from "../../src/config/load.js";

const committed = JSON.parse(readFileSync(new URL("../../schema/config.schema.json", import.meta.url), "utf8")) as Record<string, unknown>;

type Node = { type?: string; properties?: Record<string, Node>; additionalProperties?: unknown; items?: Node; anyOf?: Node[]; oneOf?: Node[]; required?: string[] };

/** Every object schema in the tree, with its JSON path. */
function objects(node: Node, path = "$"): { path: string; node: Node }[] {
  const out: { path: string; node: Node }[] = [];
  if (node.type === "object" && node.properties) out.push({ path, node });
  for (const [k, v] of Object.entries(node.properties ?? {})) out.push(...objects(v, `${path}.${k}`));
  if (node.items) out.push(...objects(node.items, `${path}[]`));
  for (const [i, v] of [...(node.anyOf ?? []), ...(node.oneOf ?? [])].entries()) out.push(...objects(v, `${path}|${i}`));
  return out;
}

describe("schema/config.schema.json (editor completion for the configuration file)", () => {
  it("equals configJsonSchema() generated from the zod schema (regenerate: `npm run schema`)", () => {
    expect(committed).toEqual(configJsonSchema());
  });

  it("is a draft 2020-12 schema with an $id and a title", () => {
    expect(committed).toMatchObject({ $schema: "https://json-schema.org/draft/2020-12/schema", title: "ofb-edge configuration", type: "object" });
    expect(committed.$id).toMatch(/config\.schema\.json$/);
    expect((committed as Node).required).toEqual(["listeners", "routes"]);
  });

  it("accepts a $schema key in the configuration, so a file can point its editor at the schema", () => {
    expect((committed as Node).properties!.$schema).toEqual({ type: "string" });
    const config = parseConfig(
      {
        $schema: "../schema/config.schema.json",
        listeners: [{ name: "edge", port: 0, mode: "strict", tls: { cert: "c.pem", key: "k.pem", trustAnchors: ["a.pem"] } }],
        routes: [{ name: "r", pathPrefix: "/", upstream: "http://127.0.0.1:1" }],
      },
      { file: "with-schema.json", baseDir: "/" },
    );
    expect(config.routes[0]!.name).toBe("r");
  });

  it("closes every object (additionalProperties: false), like the zod strict objects it mirrors", () => {
    const all = objects(committed as Node);
    expect(all.map((o) => o.path)).toEqual(expect.arrayContaining(["$", "$.listeners[]|0", "$.listeners[]|0.tls", "$.listeners[]|0.http", "$.listeners[]|1", "$.listeners[]|1.passthrough", "$.listeners[]|1.passthrough.routes[]", "$.routes[]", "$.policy", "$.proxy", "$.log"]));
    for (const { path, node } of all) expect(node.additionalProperties, path).toBe(false);
  });
});
