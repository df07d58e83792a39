import { describe, expect, it } from "vitest";
import { chatBody, type ChatOptions } from "../api/chat";
import type { StoredMessage } from "../api/types";
import { makersFor } from "./make-tools";
import { storedToolCalls } from "./stored-calls";

describe("stored tool calls", () => {
  it("a stored answer's muse.tool_calls become finished tool cards", () => {
    const m: StoredMessage = {
      id: "msg_2", role: "assistant", content: "here it is", parent_id: "msg_1",
      muse: { tool_calls: [
        { id: "call_1", name: "create_artifact", arguments: "{\"title\":\"game\"}", outcome: "ok", output: "created art_1 v1",
          images: [{ name: "plot.png", mime_type: "image/png" }], files: [],
          detail: { artifact: { id: "art_1", version: 1, title: "game", type: "html" } }, duration_ms: 42 },
        { id: "call_2", name: "python", outcome: "error" },
      ] },
    };
    const calls = storedToolCalls(m);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({
      id: "call_1", name: "create_artifact", arguments: "{\"title\":\"game\"}", startedAt: 0, finished: true,
      outcome: "ok", output: "created art_1 v1", images: [{ name: "plot.png", mime_type: "image/png" }],
      artifact: { id: "art_1", version: 1, title: "game", type: "html" }, durationMs: 42,
      detail: { artifact: { id: "art_1", version: 1, title: "game", type: "html" } },
    });
    expect(calls[1]).toMatchObject({ name: "python", arguments: "", outcome: "error", finished: true, durationMs: 0 });
    expect(calls[1]!.artifact).toBeUndefined();
  });

  it("a message without calls has none", () => {
    expect(storedToolCalls({ id: "a", role: "assistant", content: "x" })).toEqual([]);
    expect(storedToolCalls({ id: "a", role: "assistant", content: "x", muse: {} })).toEqual([]);
  });
});

describe("the Make picker", () => {
  const options: ChatOptions = { mode: "instant", thinkBudget: 512, agents: 4, aggregate: "vote", tools: [] };
  const req = (o: ChatOptions) => chatBody({ conversationId: "conv_1", parentId: undefined, content: [{ type: "text", text: "a game" }], options: o }) as Record<string, any>;

  it("lists only the makers whose tool set the server enabled", () => {
    expect(makersFor(["python", "artifacts"]).map((m) => m.fn)).toEqual(["create_artifact"]);
    expect(makersFor(["python"])).toEqual([]);
  });

  it("a forced turn adds the tool set and a tool_choice naming the function", () => {
    const maker = makersFor(["artifacts"])[0]!;
    const body = req({ ...options, tools: ["python"], force: { tool: maker.tool, fn: maker.fn } });
    expect(body.muse.tools).toEqual(["python", "artifacts"]);
    expect(body.tool_choice).toEqual({ type: "function", function: { name: "create_artifact" } });
    expect(body.parallel_tool_calls).toBe(false);
    // Already enabled: not listed twice.
    expect(req({ ...options, tools: ["artifacts"], force: maker }).muse.tools).toEqual(["artifacts"]);
  });

  it("an ordinary turn names no tool_choice", () => {
    const body = req({ ...options, force: null });
    expect(body.tool_choice).toBeUndefined();
    expect(body.muse.tools).toBeUndefined();
  });
});

describe("where a turn goes in the conversation's tree", () => {
  const options: ChatOptions = { mode: "instant", thinkBudget: 512, agents: 4, aggregate: "vote", tools: [] };
  const body = (parentId: string | null | undefined) =>
    chatBody({ conversationId: "conv_1", parentId, content: [{ type: "text", text: "q" }], options }) as Record<string, any>;

  it("after the current message when no parent is named", () => {
    expect("parent_id" in body(undefined).muse).toBe(false);
  });
  it("under a named message", () => {
    expect(body("msg_3").muse.parent_id).toBe("msg_3");
  });
  it("as a new first message (an edit of the first question): the server's empty parent_id", () => {
    expect(body(null).muse.parent_id).toBe("");
  });
});
