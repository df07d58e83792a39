import type { AgentReport, ArtifactRef, ChatChunk, ToolDetail, ToolFile, ToolImage } from "../api/types";

// One assistant turn as it streams: what the chunks said so far. Pure: applyChunk answers a new
// turn, so a component re-renders on each chunk and the tests can replay a recorded stream.

export interface AgentLane {
  index: number;
  tokens: number;
  reasoning: boolean;
  finished: boolean;
  stoppedEarly: boolean;
  skipped?: boolean; // from the final report: never started, the agents before it agreed
  role?: string; // from the final report: "agent", "planner", "sub-agent: <title>", "merger", "synthesis"
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
  startedAt: number;
  finished: boolean;
  outcome?: string;
  output?: string;
  images: ToolImage[];
  artifact?: ArtifactRef;
  detail?: ToolDetail;
  files?: ToolFile[];
  durationMs?: number;
}

export interface Turn {
  content: string;
  reasoning: string;
  startedAt: number;
  reasoningStartedAt: number | null;
  reasoningEndedAt: number | null;
  firstTokenAt: number | null;
  endedAt: number | null;
  completionTokens: number | null;
  reasoningTokens: number | null;
  finishReason: string | null;
  lanes: AgentLane[];
  agents: AgentReport[];
  agreement: number | null;
  mode: string | null; // the muse.mode asked for (and the one the final chunk names)
  plan: string[]; // orchestrate: the sub-tasks' titles (the final chunk's muse.plan)
  tools: ToolCall[];
  messageIds: string[];
  conversationId: string | null;
  status: "streaming" | "done" | "stopped" | "lost" | "error";
  error: string | null;
}

export function newTurn(now: number, mode: string | null = null): Turn {
  return {
    content: "", reasoning: "", startedAt: now, reasoningStartedAt: null, reasoningEndedAt: null,
    firstTokenAt: null, endedAt: null, completionTokens: null, reasoningTokens: null,
    finishReason: null, lanes: [], agents: [], agreement: null, mode, plan: [], tools: [], messageIds: [],
    conversationId: null, status: "streaming", error: null,
  };
}

export function applyChunk(turn: Turn, chunk: ChatChunk, now: number): Turn {
  const next: Turn = { ...turn };
  for (const choice of chunk.choices ?? []) {
    if (choice.index !== 0) continue;
    const reasoning = choice.delta?.reasoning_content;
    if (reasoning) {
      next.reasoning += reasoning;
      next.reasoningStartedAt ??= now;
      next.firstTokenAt ??= now;
    }
    const content = choice.delta?.content;
    if (content) {
      if (next.reasoningStartedAt !== null && next.reasoningEndedAt === null) next.reasoningEndedAt = now;
      next.content += content;
      next.firstTokenAt ??= now;
    }
    if (choice.finish_reason) next.finishReason = choice.finish_reason;
  }
  if (chunk.usage) {
    next.completionTokens = chunk.usage.completion_tokens;
    next.reasoningTokens = chunk.usage.completion_tokens_details?.reasoning_tokens ?? null;
  }
  const muse = chunk.muse;
  if (muse) {
    if (muse.event === "agent" && typeof muse.agent === "number") {
      const lanes = next.lanes.filter((l) => l.index !== muse.agent);
      lanes.push({
        index: muse.agent,
        tokens: muse.tokens ?? 0,
        reasoning: muse.reasoning ?? false,
        finished: muse.finished ?? false,
        stoppedEarly: false,
      });
      next.lanes = lanes.sort((a, b) => a.index - b.index);
    } else if (muse.event === "tool_call.started" && muse.id) {
      next.tools = [
        ...next.tools.filter((t) => t.id !== muse.id),
        { id: muse.id, name: muse.name ?? "tool", arguments: muse.arguments ?? "", startedAt: now, finished: false, images: [] },
      ];
    } else if (muse.event === "tool_call.finished" && muse.id) {
      const known = next.tools.find((t) => t.id === muse.id);
      const startedAt = known?.startedAt ?? now;
      const call = finishedToolCall({
        id: muse.id,
        name: muse.name ?? known?.name ?? "tool",
        arguments: muse.arguments ?? known?.arguments ?? "",
        outcome: muse.outcome, output: muse.output, detail: muse.detail, files: muse.files,
        images: muse.images ?? [],
      }, startedAt, muse.duration_ms ?? now - startedAt);
      next.tools = next.tools.some((t) => t.id === muse.id)
        ? next.tools.map((t) => (t.id === muse.id ? call : t))
        : [...next.tools, call];
    }
    if (muse.agents) {
      next.agents = muse.agents;
      // The final report says which lanes stopped early; the lanes themselves end finished.
      next.lanes = mergeLanes(next.lanes, muse.agents);
    }
    if (typeof muse.agreement === "number") next.agreement = muse.agreement;
    if (typeof muse.mode === "string") next.mode = muse.mode;
    if (Array.isArray(muse.plan)) next.plan = muse.plan.filter((p): p is string => typeof p === "string");
    if (muse.conversation) {
      next.conversationId = muse.conversation.id;
      next.messageIds = muse.conversation.message_ids;
    }
  }
  return next;
}

function mergeLanes(lanes: AgentLane[], agents: AgentReport[]): AgentLane[] {
  const merged = agents.map((a) => {
    const lane = lanes.find((l) => l.index === a.index);
    return {
      index: a.index,
      tokens: Math.max(lane?.tokens ?? 0, (a.reasoning_tokens ?? 0) + (a.answer_tokens ?? 0)),
      reasoning: false,
      finished: true,
      stoppedEarly: a.stopped_early ?? false,
      skipped: a.status === "skipped",
      ...(typeof a.role === "string" ? { role: a.role } : {}),
    };
  });
  return merged.sort((a, b) => a.index - b.index);
}

// The files a call reports (python's created or changed files in /mnt/data): the well-formed ones.
// What the server reports of a finished call, the same for a tool_call.finished event and for a
// stored answer's muse.tool_calls entry.
export interface FinishedCallFields {
  id: string;
  name: string;
  arguments: string;
  outcome?: string;
  output?: string;
  detail?: ToolDetail;
  files?: unknown;
  images: ToolImage[];
}

// The card's call from those fields: a streamed turn's and a reloaded answer's are built alike.
export function finishedToolCall(c: FinishedCallFields, startedAt: number, durationMs: number): ToolCall {
  const call: ToolCall = { id: c.id, name: c.name, arguments: c.arguments, startedAt, finished: true, images: c.images, durationMs };
  if (c.outcome !== undefined) call.outcome = c.outcome;
  if (c.output !== undefined) call.output = c.output;
  if (c.detail?.artifact) call.artifact = c.detail.artifact;
  if (c.detail) call.detail = c.detail;
  const files = toolFiles(c.files);
  if (files.length) call.files = files;
  return call;
}

export function toolFiles(files: unknown): ToolFile[] {
  if (!Array.isArray(files)) return [];
  const out: ToolFile[] = [];
  for (const f of files) {
    if (f && typeof f === "object" && typeof (f as ToolFile).path === "string") {
      const bytes = (f as ToolFile).bytes;
      out.push(typeof bytes === "number" ? { path: (f as ToolFile).path, bytes } : { path: (f as ToolFile).path });
    }
  }
  return out;
}

// The vote table: agents grouped by their answer, most agents first.
export interface VoteRow {
  answer: string;
  agents: number[];
  confidence: number | null;
}

export function voteRows(agents: AgentReport[]): VoteRow[] {
  const rows = new Map<string, { agents: number[]; confidences: number[] }>();
  for (const a of agents) {
    if (a.status === "skipped") continue; // it never ran, so it has no answer to count
    const answer = (a.answer ?? "").trim();
    const row = rows.get(answer) ?? { agents: [], confidences: [] };
    row.agents.push(a.index);
    if (typeof a.mean_confidence === "number") row.confidences.push(a.mean_confidence);
    rows.set(answer, row);
  }
  return Array.from(rows, ([answer, r]) => ({
    answer,
    agents: r.agents,
    confidence: r.confidences.length ? r.confidences.reduce((x, y) => x + y, 0) / r.confidences.length : null,
  })).sort((a, b) => b.agents.length - a.agents.length);
}

// Tokens per second of the answer, from the first token to the end.
export function tokensPerSecond(turn: Turn): number | null {
  // A contemplation's answer arrives whole at the end: its agents' tokens took the whole turn.
  const from = turn.lanes.length ? turn.startedAt : turn.firstTokenAt;
  if (turn.completionTokens === null || from === null || turn.endedAt === null) return null;
  const seconds = (turn.endedAt - from) / 1000;
  return seconds > 0 ? turn.completionTokens / seconds : null;
}

// A turn that has ended whose answer the server did not keep (the stored conversation, read
// again, has no reply for it): it stays on screen, saying so. A finished answer or one cut off
// by a lost connection becomes an error that says a reload will not show it; a stopped or
// failed turn already says what happened.
export function turnNotKept(t: Turn): Turn {
  if (t.status === "done") {
    return { ...t, status: "error", error: "The server did not keep this answer: it is shown here, but a reload will not show it (the server's log says why)." };
  }
  if (t.status === "lost") {
    return { ...t, status: "error", error: "The connection was lost and the server did not keep this answer: what came is shown here, but a reload will not show it." };
  }
  return t;
}
