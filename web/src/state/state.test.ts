import { describe, expect, it } from "vitest";
import type { StoredMessage } from "../api/types";
import { conversationPath, newestLeaf, storedReplyId } from "./tree";
import { applyChunk, newTurn, turnNotKept, voteRows } from "./turn";
import { laneState } from "./plan";
import { conversationTitle } from "./title";

const m = (id: string, role: "user" | "assistant", parent_id: string | null): StoredMessage => ({
  id, role, content: id, parent_id,
});

describe("conversation tree", () => {
  // u1 → a1, a1b (regenerated); a1b → u2; u1b (edited u1) → a3
  const tree = [m("u1", "user", null), m("a1", "assistant", "u1"), m("a1b", "assistant", "u1"),
    m("u2", "user", "a1b"), m("u1b", "user", null), m("a3", "assistant", "u1b")];

  it("follows current_id to the root and numbers siblings", () => {
    const path = conversationPath(tree, "a1");
    expect(path.map((p) => p.message.id)).toEqual(["u1", "a1"]);
    expect(path.map((p) => `${p.position + 1}/${p.siblings.length}`)).toEqual(["1/2", "1/2"]);
    expect(conversationPath(tree, "u2").map((p) => p.message.id)).toEqual(["u1", "a1b", "u2"]);
  });

  it("without parent ids the messages are one line", () => {
    const flat: StoredMessage[] = [{ id: "x", role: "user", content: "a" }, { id: "y", role: "assistant", content: "b" }];
    const path = conversationPath(flat, undefined);
    expect(path.map((p) => [p.message.id, p.siblings.length])).toEqual([["x", 1], ["y", 1]]);
  });

  it("a turn's stored reply is an assistant message the server has, never the question", () => {
    // The stream said it stored the question and the answer, or (a server that failed to keep
    // the answer) the question only: that turn has no stored reply and stays on screen.
    expect(storedReplyId(tree, ["u2"], undefined)).toBeNull();
    expect(storedReplyId(tree, ["u1b", "a3"], undefined)).toBe("a3");
    expect(storedReplyId(tree, ["u1b", "a-missing"], undefined)).toBeNull();
    // A stream that named no ids: the branch's new last message, when it is an answer.
    expect(storedReplyId(tree, [], tree[5])).toBe("a3");
    expect(storedReplyId(tree, [], tree[3])).toBeNull();
    expect(storedReplyId(tree, [], undefined)).toBeNull();
  });

  it("a sibling switch lands on its newest leaf", () => {
    expect(newestLeaf(tree, "a1b")).toBe("u2");
    expect(newestLeaf(tree, "u1b")).toBe("a3");
  });
});

describe("turn", () => {
  it("collects reasoning, content, agents and the vote", () => {
    let t = newTurn(0);
    t = applyChunk(t, { choices: [{ index: 0, delta: { reasoning_content: "hmm" } }] }, 10);
    t = applyChunk(t, { choices: [], muse: { event: "agent", agent: 1, tokens: 16, reasoning: true } }, 20);
    t = applyChunk(t, { choices: [], muse: { event: "agent", agent: 0, tokens: 32, reasoning: false } }, 30);
    t = applyChunk(t, { choices: [{ index: 0, delta: { content: "391" }, finish_reason: "stop" }],
      muse: { agents: [{ index: 0, answer: "391", mean_confidence: 0.9 }, { index: 1, answer: "391", mean_confidence: 0.7, stopped_early: true }, { index: 2, answer: "392" }], agreement: 0.66 } }, 40);
    expect(t.reasoning).toBe("hmm");
    expect(t.content).toBe("391");
    expect(t.reasoningEndedAt).toBe(40);
    expect(t.lanes.map((l) => [l.index, l.finished, l.stoppedEarly])).toEqual([[0, true, false], [1, true, true], [2, true, false]]);
    expect(t.agreement).toBe(0.66);
    const rows = voteRows(t.agents);
    expect(rows[0]).toEqual({ answer: "391", agents: [0, 1], confidence: 0.8 });
    expect(rows[1]!.agents).toEqual([2]);
  });

  it("shows staged confidence's skipped agents as skipped, and leaves them out of the vote", () => {
    let t = newTurn(0);
    t = applyChunk(t, { choices: [], muse: { event: "agent", agent: 0, tokens: 40, reasoning: false } }, 10);
    t = applyChunk(t, { choices: [], muse: { event: "agent", agent: 1, tokens: 38, reasoning: false } }, 20);
    t = applyChunk(t, { choices: [{ index: 0, delta: { content: "7694" }, finish_reason: "stop" }],
      muse: { agents: [{ index: 0, status: "done", answer: "7694", mean_confidence: 0.9 }, { index: 1, status: "done", answer: "7694", mean_confidence: 0.8 },
        { index: 2, status: "skipped", answer: "" }, { index: 3, status: "skipped", answer: "" }], agreement: 1 } }, 30);
    expect(t.lanes.map((l) => [l.index, laneState(l)])).toEqual([[0, "finished"], [1, "finished"], [2, "skipped"], [3, "skipped"]]);
    const rows = voteRows(t.agents);
    expect(rows.map((r) => [r.answer, r.agents])).toEqual([["7694", [0, 1]]]);
    expect(rows[0]!.confidence).toBeCloseTo(0.85);
  });

  it("tracks a tool call from start to its artifact", () => {
    let t = newTurn(0);
    t = applyChunk(t, { choices: [], muse: { event: "tool_call.started", id: "c1", name: "artifacts", arguments: "{}" } }, 5);
    expect(t.tools[0]!.finished).toBe(false);
    t = applyChunk(t, { choices: [], muse: { event: "tool_call.finished", id: "c1", outcome: "ok", output: "made",
      detail: { artifact: { id: "art_1", version: 2 } }, duration_ms: 12 } }, 9);
    expect(t.tools).toHaveLength(1);
    expect(t.tools[0]).toMatchObject({ name: "artifacts", finished: true, output: "made", durationMs: 12, artifact: { id: "art_1", version: 2 } });
  });
});

describe("a new conversation's title", () => {
  it("is the first message's text, cut by character: an emoji at the cut stays whole or goes", () => {
    const text = "a".repeat(59) + "\u{1F600}tail";
    const title = conversationTitle([{ type: "text", text }]);
    expect(Array.from(title)).toHaveLength(60);
    expect(title.endsWith("\u{1F600}")).toBe(true);
    // What the server is sent parses as JSON with no lone surrogate.
    expect(JSON.stringify(title)).not.toMatch(/\\ud83d/i);
    expect(conversationTitle([{ type: "text", text: "  hi  " }])).toBe("hi");
    expect(conversationTitle(null)).toBe("New chat");
    expect(conversationTitle([{ type: "image_url", image_url: { url: "data:," } }])).toBe("New chat");
  });
});

describe("a turn the server did not keep", () => {
  it("says so when it finished or lost its connection, and stays as it was when stopped or failed", () => {
    const t = { ...newTurn(0), content: "partial" };
    const done = turnNotKept({ ...t, status: "done" });
    expect(done.status).toBe("error");
    expect(done.error).toMatch(/did not keep/);
    expect(done.content).toBe("partial");
    // No longer "waiting for the server to come back": it came back, without the answer.
    const lost = turnNotKept({ ...t, status: "lost" });
    expect(lost.status).toBe("error");
    expect(lost.error).toMatch(/connection was lost/);
    const stopped = { ...t, status: "stopped" as const };
    expect(turnNotKept(stopped)).toBe(stopped);
    const failed = { ...t, status: "error" as const, error: "400: bad" };
    expect(turnNotKept(failed)).toBe(failed);
  });
});
