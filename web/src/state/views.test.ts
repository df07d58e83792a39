import { describe, expect, it } from "vitest";
import { chatBody, type ChatOptions } from "../api/chat";
import type { StoredMessage } from "../api/types";
import { citationsOf, webHref } from "./citations";
import { groundingOf, overlayShapes, overlayStroke } from "./grounding";
import { laneLabel, orchestratePhase, planSteps } from "./plan";
import { promptImages, promptImagesBefore, runImage } from "./run-images";
import { storedToolCalls } from "./stored-calls";
import { fenced, pythonCode, ranPython, workspaceFileHref } from "./tool-views";
import { applyChunk, newTurn, type ToolCall } from "./turn";

// Details as src/agent/tools/visual-grounding.cpp writes them.
const boxes = {
  coordinates: "integers 0-1000", image: 1, mode: "boxes", query: "cat", width: 400, height: 200,
  items: [
    { label: "cat", box_norm: [100, 250, 500, 1000], box_px: [40, 50, 200, 200] },
    { label: "cat", box_norm: [500, 0, 1000, 500], box_px: [200, 0, 400, 100] },
  ],
  count: 2,
};

describe("grounding", () => {
  it("reads the items in the tool's pixels", () => {
    const g = groundingOf(boxes)!;
    expect(g).toMatchObject({ image: 1, mode: "boxes", query: "cat", width: 400, height: 200, count: 2 });
    expect(g.items).toEqual([{ label: "cat", box: [40, 50, 200, 200] }, { label: "cat", box: [200, 0, 400, 100] }]);
  });

  it("maps pixels onto the shown image's natural size, each axis on its own", () => {
    const g = groundingOf(boxes)!;
    // The same size: the tool's pixels as they are.
    expect(overlayShapes(g, 400, 200)[0]).toEqual({ kind: "box", n: 1, label: "cat", x: 40, y: 50, w: 160, h: 150 });
    // A copy at twice the width and three times the height.
    expect(overlayShapes(g, 800, 600)[1]).toEqual({ kind: "box", n: 2, label: "cat", x: 400, y: 0, w: 400, h: 300 });
  });

  it("falls back to the 0–1000 coordinates, and clamps to the image", () => {
    const g = groundingOf({ width: 1000, height: 500, mode: "points", query: "eye", count: 3,
      items: [{ label: "eye", point_norm: [250, 500] }, { label: "eye", point_px: [10, 20] }, { label: "x", box_px: [-5, -5, 2000, 600] }] })!;
    expect(g.items[0]).toEqual({ label: "eye", point: [250, 250] });
    const shapes = overlayShapes(g, 500, 250);
    expect(shapes[0]).toEqual({ kind: "point", n: 1, label: "eye", cx: 125, cy: 125 });
    expect(shapes[1]).toEqual({ kind: "point", n: 2, label: "eye", cx: 5, cy: 10 });
    expect(shapes[2]).toEqual({ kind: "box", n: 3, label: "x", x: 0, y: 0, w: 500, h: 250 });
    expect(g.image).toBeNull();
  });

  it("a count with no items still says the count; other details are not groundings", () => {
    const g = groundingOf({ mode: "count", query: "coins", width: 10, height: 10, items: [], count: 0 })!;
    expect(g).toMatchObject({ mode: "count", count: 0, items: [] });
    expect(groundingOf({ exit_code: 0, timed_out: false })).toBeNull();
    expect(groundingOf({ items: [], width: 0, height: 10 })).toBeNull();
    // read_text's detail has width and height but words, not items.
    expect(groundingOf({ image: 1, width: 10, height: 10, words: [] })).toBeNull();
    expect(groundingOf(undefined)).toBeNull();
  });

  it("strokes scale with the image", () => {
    expect(overlayStroke(100, 100)).toBe(2);
    expect(overlayStroke(4000, 3000)).toBe(12);
  });
});

describe("the run's numbered images", () => {
  const png = "data:image/png;base64,AAAA";
  const call = (images: ToolCall["images"]): ToolCall => ({ id: "c", name: "crop_zoom", arguments: "", startedAt: 0, finished: true, images });

  it("numbers the prompt's images first, then the calls'", () => {
    const prompt = promptImages([
      "plain text",
      [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: png } }],
      [{ type: "image_url", image_url: { url: "file-abc" } }, { type: "image_url", image_url: { url: "https://x/y.png" } }],
    ]);
    expect(prompt).toEqual([png, "/v1/files/file-abc/content", null]);
    const calls = [call([{ name: "crop-1.png", mime_type: "image/png", data: "BBBB" }]), call([{ name: "stored.png", mime_type: "image/png" }])];
    expect(runImage(1, prompt, calls)).toBe(png);
    expect(runImage(3, prompt, calls)).toBeNull(); // a remote URL the server refuses anyway
    expect(runImage(4, prompt, calls)).toBe("data:image/png;base64,BBBB");
    expect(runImage(5, prompt, calls)).toBeNull(); // a stored call keeps no data
    expect(runImage(6, prompt, calls)).toBeNull();
    expect(runImage(0, prompt, calls)).toBeNull();
  });

  it("an answer's run had the images of the messages before it", () => {
    const path: StoredMessage[] = [
      { id: "u1", role: "user", content: [{ type: "image_url", image_url: { url: png } }] },
      { id: "a1", role: "assistant", content: "ok" },
      { id: "u2", role: "user", content: [{ type: "image_url", image_url: { url: "data:image/jpeg;base64,CC" } }] },
      { id: "a2", role: "assistant", content: "ok" },
    ];
    expect(promptImagesBefore(path, 1)).toEqual([png]);
    expect(promptImagesBefore(path, 3)).toEqual([png, "data:image/jpeg;base64,CC"]);
  });
});

describe("citations", () => {
  it("web_search results: title, URL and snippet; only http(s) links", () => {
    const c = citationsOf({ query: "q", provider: "searxng", results: [
      { title: "Muse", url: "https://example.org/muse", snippet: "an assistant" },
      { title: "", url: "http://example.com/", snippet: "" },
      { title: "bad", url: "javascript:alert(1)", snippet: "" },
      { title: "no url" },
    ] });
    expect(c).toHaveLength(3);
    expect(c[0]).toEqual({ kind: "web", title: "Muse", href: "https://example.org/muse", where: "https://example.org/muse", snippet: "an assistant" });
    expect(c[1]!.title).toBe("http://example.com/");
    expect(c[2]!.href).toBeNull();
    expect(webHref("data:text/html,x")).toBeNull();
  });

  it("open_url's page and find_in_page's lines", () => {
    expect(citationsOf({ url: "https://a.test/p", requested: "https://a.test/", title: "Page", content_type: "text/html", bytes: 5, total_lines: 9 }))
      .toEqual([{ kind: "web", title: "Page", href: "https://a.test/p", where: "https://a.test/p", snippet: "" }]);
    expect(citationsOf({ url: "https://a.test/p", pattern: "x", matches: 2, lines: [3, 12] })[0]!.snippet).toBe("lines L3, L12");
  });

  it("file_search hits: the file name and chunk, or the conversation", () => {
    const c = citationsOf({ query: "pump", vector: false, hits: [
      { chunk_id: 7, source: "file", source_id: "file-1", file_id: "file-1", title: "manual.pdf", start: 0, end: 1200, snippet: "reset the pump", score: 0.5 },
      { chunk_id: 9, source: "conversation", source_id: "conv_2", message_id: "msg_3", title: "Pumps", start: 10, end: 40, snippet: "s" },
    ] });
    expect(c[0]).toEqual({ kind: "file", title: "manual.pdf", href: "/v1/files/file-1/content", where: "chunk 7, bytes 0–1200", snippet: "reset the pump" });
    expect(c[1]).toEqual({ kind: "conversation", title: "Pumps", href: null, where: "message msg_3, bytes 10–40", snippet: "s" });
    expect(citationsOf({ exit_code: 0 })).toEqual([]);
  });
});

describe("python cards and the workspace's files", () => {
  it("reads the code argument", () => {
    expect(pythonCode({ name: "python", arguments: JSON.stringify({ code: "print(1)" }) })).toBe("print(1)");
    expect(pythonCode({ name: "python", arguments: "{not json" })).toBeNull();
    expect(pythonCode({ name: "python", arguments: "{\"code\": 3}" })).toBeNull();
    expect(pythonCode({ name: "web_search", arguments: "{\"code\": \"x\"}" })).toBeNull();
  });

  it("fences code that holds backticks", () => {
    expect(fenced("x = 1", "python")).toBe("```python\nx = 1\n```");
    expect(fenced("s = '````'\n", "python")).toBe("`````python\ns = '````'\n`````");
  });

  it("encodes each segment of a file's path", () => {
    expect(workspaceFileHref("conv_1", "out/plot 1.png")).toBe("/v1/workspaces/conv_1/files/out/plot%201.png");
    expect(workspaceFileHref("conv_1", "a#?.csv")).toBe("/v1/workspaces/conv_1/files/a%23%3F.csv");
  });

  it("a turn that ran python refreshes the files", () => {
    expect(ranPython({ tools: [] })).toBe(false);
    expect(ranPython({ tools: [{ id: "1", name: "python", arguments: "", startedAt: 0, finished: true, images: [] }] })).toBe(true);
  });
});

describe("a tool call's detail and files", () => {
  it("streamed: kept on the call", () => {
    let t = newTurn(0);
    t = applyChunk(t, { choices: [], muse: { event: "tool_call.started", id: "c1", name: "python", arguments: "{\"code\":\"1\"}" } }, 1);
    t = applyChunk(t, { choices: [], muse: { event: "tool_call.finished", id: "c1", outcome: "ok", output: "1\n",
      files: [{ path: "out.csv", bytes: 12 }, { nope: 1 }], detail: { exit_code: 0, timed_out: false } } }, 2);
    expect(t.tools[0]).toMatchObject({ files: [{ path: "out.csv", bytes: 12 }], detail: { exit_code: 0, timed_out: false } });
    expect(ranPython(t)).toBe(true);
  });

  it("stored: kept on the card", () => {
    const calls = storedToolCalls({ id: "a", role: "assistant", content: "x", muse: { tool_calls: [
      { id: "c", name: "visual_grounding", detail: boxes, files: [] },
    ] } });
    expect(groundingOf(calls[0]!.detail)?.count).toBe(2);
    expect(calls[0]!.files).toBeUndefined();
  });
});

describe("orchestrate", () => {
  const options: ChatOptions = { mode: "orchestrate", thinkBudget: 512, agents: 4, aggregate: "vote", tools: ["python"], maxSubtasks: 3 };
  const body = (o: ChatOptions) => chatBody({ conversationId: "conv_1", parentId: undefined, content: [{ type: "text", text: "q" }], options: o }) as Record<string, any>;

  it("asks for at most N sub-tasks and sends no server tools (the server refuses them)", () => {
    const b = body({ ...options, force: { tool: "artifacts", fn: "create_artifact" } });
    expect(b.muse).toMatchObject({ mode: "orchestrate", max_subtasks: 3 });
    expect(b.muse.tools).toBeUndefined();
    expect(b.tool_choice).toBeUndefined();
    expect(body({ ...options, maxSubtasks: 40 }).muse.max_subtasks).toBe(8);
    expect(body({ ...options, mode: "contemplate" }).muse.max_subtasks).toBeUndefined();
  });

  it("streams lanes by index, then the plan and the roles", () => {
    let t = newTurn(0, "orchestrate");
    expect(orchestratePhase(t)).toBe("planning");
    t = applyChunk(t, { choices: [], muse: { event: "agent", agent: 0, tokens: 16, reasoning: false, finished: false } }, 1);
    expect(laneLabel(t.lanes[0]!, t.mode)).toBe("Planner");
    t = applyChunk(t, { choices: [], muse: { event: "agent", agent: 0, tokens: 40, reasoning: false, finished: true } }, 2);
    expect(orchestratePhase(t)).toBe("working");
    t = applyChunk(t, { choices: [], muse: { event: "agent", agent: 2, tokens: 16, reasoning: true, finished: false } }, 3);
    expect(laneLabel(t.lanes[1]!, t.mode)).toBe("Pass 3"); // sub-agent or merger: the event does not say
    t = applyChunk(t, { choices: [{ index: 0, delta: { content: "merged" }, finish_reason: "stop" }], muse: {
      mode: "orchestrate", agreement: 0, plan: ["Facts", "Numbers"],
      agents: [
        { index: 0, role: "planner", status: "done", answer_tokens: 40 },
        { index: 1, role: "sub-agent: Facts", status: "done", answer_tokens: 30 },
        { index: 2, role: "sub-agent: Numbers", status: "length", answer_tokens: 50 },
        { index: 3, role: "merger", status: "done", answer_tokens: 20 },
      ] } }, 4);
    expect(t.plan).toEqual(["Facts", "Numbers"]);
    expect(orchestratePhase(t)).toBe("done");
    expect(planSteps(t)).toEqual([{ title: "Facts", agent: 1, state: "done" }, { title: "Numbers", agent: 2, state: "length" }]);
    expect(t.lanes.map((l) => laneLabel(l, t.mode))).toEqual(["Planner", "Sub-agent 1: Facts", "Sub-agent 2: Numbers", "Merger"]);
  });

  it("contemplate's lanes keep their names", () => {
    expect(laneLabel({ index: 2 }, "contemplate")).toBe("Agent 3");
    expect(laneLabel({ index: 0, role: "agent" }, null)).toBe("Agent 1");
  });
});
