import type { Api } from "./client";
import { readSse } from "./sse";
import type { ChatChunk, ContentPart } from "./types";

export type Mode = "instant" | "thinking" | "contemplate" | "orchestrate";
export type Aggregate = "vote" | "confidence" | "synthesize";

export interface ChatOptions {
  mode: Mode;
  thinkBudget: number;
  agents: number;
  aggregate: Aggregate;
  maxSubtasks?: number; // orchestrate: the most sub-tasks the planner may make (muse.max_subtasks, 1–8)
  tools: string[];
  force?: ForcedTool | null; // a function this turn must call (the composer's "Make" picker)
}

// A function of a server tool set that a turn makes the model call: `fn` of the set `tool`.
export interface ForcedTool {
  tool: string; // e.g. artifacts
  fn: string; // e.g. create_artifact
}

export interface ChatRequest {
  conversationId: string;
  parentId: string | null | undefined; // undefined: append to the conversation's current leaf
  content: ContentPart[] | null; // null: regenerate the reply to parentId
  options: ChatOptions;
}

export function chatBody(req: ChatRequest): unknown {
  const muse: Record<string, unknown> = { conversation_id: req.conversationId, mode: req.options.mode };
  // null: a new first message (an edit of the conversation's first question), which the
  // server spells "" (a null parent_id would mean "after the current message").
  if (req.parentId !== undefined) muse.parent_id = req.parentId ?? "";
  if (req.options.mode === "thinking") muse.think_budget = req.options.thinkBudget;
  if (req.options.mode === "contemplate") {
    muse.agents = req.options.agents;
    muse.aggregate = req.options.aggregate;
  }
  // Orchestrate's sub-agents take no server tools (the server answers 400 and points at
  // spawn_agent): an orchestrated turn sends none, and forces none.
  const orchestrate = req.options.mode === "orchestrate";
  if (orchestrate) muse.max_subtasks = Math.max(1, Math.min(8, Math.round(req.options.maxSubtasks ?? 4)));
  const force = orchestrate ? null : req.options.force;
  const asked = orchestrate ? [] : req.options.tools;
  const tools = force && !asked.includes(force.tool) ? [...asked, force.tool] : asked;
  if (tools.length) muse.tools = tools;
  return {
    model: "muse",
    stream: true,
    stream_options: { include_usage: true },
    messages: req.content ? [{ role: "user", content: req.content }] : [],
    muse,
    ...(force ? { tool_choice: { type: "function", function: { name: force.fn } }, parallel_tool_calls: false } : {}),
  };
}

// Streams one chat completion's chunks. The caller's signal stops it (AbortError).
export async function* streamChat(api: Api, req: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatChunk> {
  const res = await api.request("POST", "/v1/chat/completions", chatBody(req), signal);
  if (!res.body) throw new Error("the server sent no stream body");
  for await (const event of readSse(res.body)) {
    if (event.data === "[DONE]") return;
    const chunk = JSON.parse(event.data) as ChatChunk & { error?: { message?: string } };
    if (chunk.error) throw new Error(chunk.error.message ?? "the stream reported an error");
    yield chunk;
  }
  throw new TypeError("the stream ended before [DONE]");
}
