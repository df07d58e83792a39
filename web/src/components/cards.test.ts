// @vitest-environment jsdom
import { h, render, type VNode } from "preact";
import { describe, expect, it } from "vitest";
import { Api } from "../api/client";
import { createMarkdownRenderer } from "../markdown/render";
import { createSanitizer } from "../markdown/sanitize";
import { newTurn, type ToolCall } from "../state/turn";
import { Plan } from "./AgentLanes";
import { MarkdownContext } from "./Markdown";
import { ToolCard } from "./ToolCard";

const markdown = createMarkdownRenderer(createSanitizer(window));
const png = "data:image/png;base64,iVBORw0KGgo=";

function mount(vnode: VNode<any>): HTMLElement {
  const root = document.createElement("div");
  document.body.appendChild(root);
  render(h(MarkdownContext.Provider, { value: markdown }, vnode), root);
  return root;
}

const call = (c: Partial<ToolCall>): ToolCall => ({ id: "c1", name: "tool", arguments: "{}", startedAt: 0, finished: true, images: [], ...c });

describe("tool cards", () => {
  it("draws visual_grounding's boxes over the user's image, with the count", () => {
    const root = mount(h(ToolCard, {
      api: new Api(),
      promptImages: [png],
      call: call({ name: "visual_grounding", outcome: "ok",
        images: [{ name: "grounding-of-1.png", mime_type: "image/png", data: "QUJD" }],
        detail: { image: 1, mode: "boxes", query: "cat", width: 400, height: 200, count: 2,
          items: [{ label: "cat", box_norm: [100, 250, 500, 1000], box_px: [40, 50, 200, 200] }, { label: "cat", point_px: [10, 20] }] } }),
    }));
    const svg = root.querySelector('[data-testid="grounding-overlay"]')!;
    expect(svg.getAttribute("viewBox")).toBe("0 0 400 200");
    const rect = svg.querySelector("rect")!;
    expect([rect.getAttribute("x"), rect.getAttribute("y"), rect.getAttribute("width"), rect.getAttribute("height")]).toEqual(["40", "50", "160", "150"]);
    expect(svg.querySelectorAll("circle")).toHaveLength(1);
    expect(root.querySelector(".grounding-frame img")!.getAttribute("src")).toBe(png); // the user's, not the annotated copy
    expect(root.querySelector('[data-testid="grounding-count"]')!.textContent).toContain("2");
    expect(root.querySelector(".tool-image")).toBeNull();
  });

  it("lists web results as links that open without the app", () => {
    const root = mount(h(ToolCard, { api: new Api(), call: call({ name: "web_search",
      detail: { query: "q", results: [{ title: "A", url: "https://a.test/", snippet: "s" }, { title: "B", url: "javascript:alert(1)", snippet: "" }] } }) }));
    const items = root.querySelectorAll('[data-testid="citation"]');
    expect(items).toHaveLength(2);
    const a = items[0]!.querySelector("a")!;
    expect([a.getAttribute("href"), a.getAttribute("rel"), a.getAttribute("target")]).toEqual(["https://a.test/", "noopener noreferrer", "_blank"]);
    expect(items[1]!.querySelector("a")).toBeNull();
  });

  it("shows python's code as a python block, its output and its files", () => {
    const root = mount(h(ToolCard, { api: new Api(), workspace: "conv_1", call: call({ name: "python",
      arguments: JSON.stringify({ code: "print('hi')" }), output: "hi\n", files: [{ path: "out.csv", bytes: 3 }],
      detail: { exit_code: 1 } }) }));
    expect(root.querySelector('[data-testid="python-code"] code.language-python')!.textContent).toBe("print('hi')\n");
    expect(root.querySelector(".tool-args")).toBeNull();
    expect(root.querySelector(".tool-output")!.textContent).toBe("hi\n");
    expect(root.querySelector(".tool-files a")!.getAttribute("href")).toBe("/v1/workspaces/conv_1/files/out.csv");
    expect(root.querySelector("summary")!.textContent).toContain("exit code 1");
  });
});

describe("the plan", () => {
  it("says planning, then lists the sub-tasks", () => {
    const t = newTurn(0, "orchestrate");
    let root = mount(h(Plan, { turn: t }));
    expect(root.querySelector('[data-testid="plan"]')!.getAttribute("data-phase")).toBe("planning");
    root = mount(h(Plan, { turn: { ...t, status: "done", plan: ["A", "B"], agents: [{ index: 1, status: "done" }] } }));
    const steps = root.querySelectorAll('[data-testid="plan-step"]');
    expect(Array.from(steps, (s) => s.getAttribute("data-state"))).toEqual(["done", "waiting"]);
  });
});
