import type { ForcedTool } from "../api/chat";

// The composer's "Make" picker: the server tools that create something, by the tool set that
// registers them and the function the model is made to call (docs/agent.md).
export interface Maker extends ForcedTool {
  label: string;
}

const makers: Maker[] = [{ tool: "artifacts", fn: "create_artifact", label: "Artifact" }];

// The makers whose tool set the server has enabled.
export function makersFor(enabled: string[]): Maker[] {
  return makers.filter((m) => enabled.includes(m.tool));
}
