import { z } from "zod";
import { configSchema } from "./schema.js";

/** The configuration's JSON Schema (draft 2020-12), generated from the zod schema: one source of truth. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }),
    $id: "https://github.com/ofb-edge/ofb-edge/schema/config.schema.json",
    title: "ofb-edge configuration",
  };
}
