import { useState } from "preact/hooks";
import type { Api } from "../api/client";
import type { ContentPart } from "../api/types";
import { tokensPerSecond, voteRows, type ToolCall, type Turn } from "../state/turn";
import { AgentLanes, Plan, VoteTable } from "./AgentLanes";
import { Markdown } from "./Markdown";
import { ToolCard } from "./ToolCard";

export interface BranchNav {
  position: number;
  count: number;
  go: (delta: number) => void;
}

function Branches({ nav }: { nav: BranchNav }) {
  if (nav.count < 2) return null;
  return (
    <span class="branches">
      <button type="button" data-testid="branch-prev" aria-label="Previous version" disabled={nav.position === 0} onClick={() => nav.go(-1)}>‹</button>
      <span data-testid="branch-label">{nav.position + 1}/{nav.count}</span>
      <button type="button" data-testid="branch-next" aria-label="Next version" disabled={nav.position === nav.count - 1} onClick={() => nav.go(1)}>›</button>
    </span>
  );
}

export function UserMessage(props: { content: ContentPart[] | string; nav?: BranchNav; onEdit?: (text: string) => void; busy: boolean }) {
  const parts: ContentPart[] = typeof props.content === "string" ? [{ type: "text", text: props.content }] : props.content;
  const text = parts.map((p) => (p.type === "text" ? p.text : "")).join("");
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(text);
  return (
    <div class="message user" data-testid="message" data-role="user">
      {parts.map((p, i) =>
        p.type === "image_url" ? <img key={i} class="attachment" alt="attached image" src={p.image_url.url} /> :
        p.type === "input_audio" ? <span key={i} class="chip">audio ({p.input_audio.format})</span> : null,
      )}
      {editing ? (
        <form class="edit" onSubmit={(e) => { e.preventDefault(); setEditing(false); props.onEdit?.(draft); }}>
          <textarea aria-label="Edit message" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
          <button type="submit" data-testid="edit-send">Send</button>
          <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        </form>
      ) : (
        <div class="text">{text}</div>
      )}
      <div class="message-bar">
        {props.nav && <Branches nav={props.nav} />}
        {props.onEdit && !editing && (
          <button type="button" data-testid="edit" aria-label="Edit message" disabled={props.busy} onClick={() => { setDraft(text); setEditing(true); }}>✎</button>
        )}
      </div>
    </div>
  );
}

function seconds(from: number | null, to: number | null): string {
  return from !== null && to !== null ? ` · ${((to - from) / 1000).toFixed(1)} s` : "";
}

export function AssistantMessage(props: {
  api: Api;
  content: string;
  reasoning: string;
  turn?: Turn | undefined;
  storedCalls?: ToolCall[]; // the calls the server stored with the answer (shown without a turn)
  agentsWanted?: number;
  promptImages?: (string | null)[]; // the images the run was given, by number (state/run-images)
  workspace?: string | null; // the conversation whose /mnt/data the calls wrote to
  nav?: BranchNav;
  onRegenerate?: () => void;
  busy: boolean;
}) {
  const t = props.turn;
  const streaming = t?.status === "streaming";
  const tps = t ? tokensPerSecond(t) : null;
  const orchestrated = t?.mode === "orchestrate";
  const rows = t?.agents.length && !orchestrated ? voteRows(t.agents) : [];
  const calls = t?.tools.length ? t.tools : (props.storedCalls ?? []);
  return (
    <div class="message assistant" data-testid="message" data-role="assistant" data-status={t?.status ?? "stored"}>
      {props.reasoning && (
        <details class="reasoning" open={streaming && !props.content}>
          <summary>
            Reasoning{t?.reasoningTokens ? ` · ${t.reasoningTokens} tokens` : ""}
            {seconds(t?.reasoningStartedAt ?? null, t?.reasoningEndedAt ?? (streaming ? null : t?.endedAt ?? null))}
          </summary>
          <div class="reasoning-text">{props.reasoning}</div>
        </details>
      )}
      {t && orchestrated && <Plan turn={t} />}
      {t && (t.lanes.length > 0 || (streaming && (props.agentsWanted ?? 0) > 0)) && (
        <AgentLanes lanes={t.lanes} total={props.agentsWanted ?? t.lanes.length} mode={t.mode} />
      )}
      {calls.map((c) => (
        <ToolCard key={c.id} call={c} api={props.api} calls={calls} promptImages={props.promptImages ?? []} workspace={props.workspace ?? null} />
      ))}
      <Markdown text={props.content} />
      {streaming && !props.content && !props.reasoning && <span class="typing" aria-label="Waiting for the answer">…</span>}
      {rows.length > 0 && <VoteTable rows={rows} agreement={t?.agreement ?? null} />}
      {t?.status === "stopped" && <p class="note">Stopped.</p>}
      {t?.status === "lost" && <p class="note error" role="status">Connection lost — waiting for the server to come back…</p>}
      {t?.status === "error" && <p class="note error" role="alert">{t.error}</p>}
      <div class="message-bar">
        {props.nav && <Branches nav={props.nav} />}
        {t && t.completionTokens !== null && (
          <span class="stats">{t.completionTokens} tokens{tps !== null ? ` · ${tps.toFixed(1)} tok/s` : ""}</span>
        )}
        {props.onRegenerate && (
          <button type="button" data-testid="regenerate" aria-label="Regenerate answer" disabled={props.busy} onClick={props.onRegenerate}>↻</button>
        )}
      </div>
    </div>
  );
}
