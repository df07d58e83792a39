import { useEffect, useRef, useState } from "preact/hooks";
import { streamChat, type ChatOptions } from "../api/chat";
import { ApiError, type Api } from "../api/client";
import type { Capabilities, ContentPart, Conversation } from "../api/types";
import { AssistantMessage, UserMessage } from "../components/Message";
import { Composer } from "../components/Composer";
import { FilesPanel } from "../components/FilesPanel";
import { promptImages, promptImagesBefore } from "../state/run-images";
import { storedToolCalls } from "../state/stored-calls";
import { conversationPath, newestLeaf, storedReplyId, textOf } from "../state/tree";
import { conversationTitle } from "../state/title";
import { ranPython } from "../state/tool-views";
import { applyChunk, newTurn, turnNotKept, type Turn } from "../state/turn";

interface Props {
  api: Api;
  caps: Capabilities;
  conversationId: string | null;
  onCreated: (id: string) => void; // a first message made a new conversation
  onChanged: () => void; // the list should refresh (title, order)
  stopRef: { current: (() => void) | null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function ChatView({ api, caps, conversationId, onCreated, onChanged, stopRef }: Props) {
  const [conv, setConv] = useState<Conversation | null>(null);
  const [turn, setTurn] = useState<Turn | null>(null); // the reply streaming now (or cut off)
  const [pendingUser, setPendingUser] = useState<ContentPart[] | null>(null);
  const [extras, setExtras] = useState<Map<string, Turn>>(new Map());
  const [error, setError] = useState<string | null>(null);
  // The streaming turn's prompt images (its branch's, then its own), as the server numbers them.
  const [turnImages, setTurnImages] = useState<(string | null)[]>([]);
  const [filesVersion, setFilesVersion] = useState(0); // bumped after a turn that ran python
  const [options, setOptions] = useState<ChatOptions>({ mode: caps.reasoning ? "thinking" : "instant", thinkBudget: 512, agents: 4, aggregate: "vote", tools: [] });
  const abort = useRef<AbortController | null>(null);
  // Turns this view has finished (sent, stopped or failed, and the stored conversation reloaded):
  // data-runs on the view, which lets a test wait for "this turn is over" without guessing.
  const [runs, setRuns] = useState(0);
  const createdHere = useRef<string | null>(null);
  const bottom = useRef<HTMLDivElement>(null);

  async function load(id: string): Promise<Conversation | null> {
    try {
      const c = await api.get<Conversation>(`/v1/conversations/${encodeURIComponent(id)}`);
      setConv(c);
      return c;
    } catch (e) {
      setError(`Could not load the conversation: ${(e as Error).message}`);
      return null;
    }
  }

  useEffect(() => {
    setError(null);
    if (createdHere.current !== null && createdHere.current === conversationId) return; // made by send()
    abort.current?.abort();
    setTurn(null);
    setPendingUser(null);
    setExtras(new Map());
    if (conversationId) void load(conversationId);
    else setConv(null);
  }, [conversationId]);

  useEffect(() => bottom.current?.scrollIntoView({ block: "end" }), [turn?.content, turn?.reasoning, conv]);

  const busy = turn?.status === "streaming";
  stopRef.current = busy ? () => abort.current?.abort() : null;
  const path = conv ? conversationPath(conv.messages, conv.current_id) : [];

  async function run(content: ContentPart[] | null, parentId: string | null | undefined) {
    if (busy) return;
    setError(null);
    let id = conv?.id ?? conversationId;
    if (!id) {
      try {
        const made = await api.post<Conversation>("/v1/conversations", { title: conversationTitle(content) });
        id = made.id;
        createdHere.current = id;
        setConv({ ...made, messages: [] });
        onCreated(id);
      } catch (e) {
        setError(`Could not start a conversation: ${(e as Error).message}`);
        return;
      }
    }
    const controller = new AbortController();
    abort.current = controller;
    let t = newTurn(Date.now(), options.mode);
    setTurn(t);
    setPendingUser(content);
    const branch = path.map((p) => p.message);
    const upTo = parentId === undefined ? branch.length : parentId === null ? 0 : branch.findIndex((m) => m.id === parentId) + 1;
    setTurnImages([...promptImagesBefore(branch, upTo), ...promptImages([content])]);
    const before = new Set((conv?.messages ?? []).map((m) => m.id));
    try {
      for await (const chunk of streamChat(api, { conversationId: id, parentId, content, options }, controller.signal)) {
        t = applyChunk(t, chunk, Date.now());
        setTurn(t);
      }
      t = { ...t, status: "done", endedAt: Date.now() };
    } catch (e) {
      const err = e as Error;
      if (err.name === "AbortError") t = { ...t, status: "stopped", endedAt: Date.now() };
      else if (err instanceof ApiError) t = { ...t, status: "error", error: err.message, endedAt: Date.now() };
      else t = { ...t, status: "lost", endedAt: Date.now() };
      setTurn(t);
    }
    if (t.status === "lost") {
      // The server went away (restarted?): wait until it answers again, then show what it kept.
      for (;;) {
        await sleep(1000);
        try {
          const res = await fetch("/health", { credentials: "same-origin" });
          if (res.ok) break;
        } catch {
          // still down
        }
      }
    }
    const fresh = await load(id);
    if (ranPython(t)) setFilesVersion((n) => n + 1);
    setRuns((n) => n + 1);
    onChanged();
    if (!fresh) return;
    // The reply the server stored is the new assistant message on the current path.
    const freshPath = conversationPath(fresh.messages, fresh.current_id);
    const last = freshPath[freshPath.length - 1]?.message;
    const replyId = storedReplyId(fresh.messages, t.messageIds, last && !before.has(last.id) ? last : undefined);
    if (replyId) {
      const kept: Turn = t.status === "lost" ? { ...t, status: "done" } : t;
      setExtras((x) => new Map(x).set(replyId, kept));
      setTurn(null);
      setPendingUser(null);
    } else {
      // Not stored (stopped before the server kept it, or an error): the partial answer stays.
      // A finished (or connection-lost) answer the server did not keep says so.
      setTurn(turnNotKept(t));
      setPendingUser(freshPath.some((p) => !before.has(p.message.id) && p.message.role === "user") ? null : content);
    }
  }

  async function switchTo(siblingId: string) {
    if (!conv) return;
    try {
      await api.post(`/v1/conversations/${encodeURIComponent(conv.id)}`, { current_id: newestLeaf(conv.messages, siblingId) });
      setTurn(null);
      await load(conv.id);
    } catch (e) {
      setError(`Could not switch branch: ${(e as Error).message}`);
    }
  }

  const lastStored = path[path.length - 1]?.message.id;
  return (
    <div class="chat" data-testid="chat" data-runs={runs} data-busy={busy ? "true" : "false"}>
      <div class="messages" aria-live="polite">
        {!conv?.messages.length && !turn && <p class="empty">Ask anything. Enter sends, Shift+Enter adds a line.</p>}
        {path.map((p, i) => {
          const nav = { position: p.position, count: p.siblings.length, go: (d: number) => void switchTo(p.siblings[p.position + d]!) };
          const parentId = i > 0 ? path[i - 1]!.message.id : null;
          if (p.message.role === "user") {
            return (
              <UserMessage key={p.message.id} content={p.message.content ?? ""} nav={nav} busy={busy}
                onEdit={(text) => void run([{ type: "text", text }], p.message.parent_id ?? parentId)} />
            );
          }
          return (
            <AssistantMessage key={p.message.id} api={api} content={textOf(p.message)} reasoning={p.message.reasoning_content ?? ""}
              turn={extras.get(p.message.id)} storedCalls={storedToolCalls(p.message)} nav={nav} busy={busy}
              promptImages={promptImagesBefore(path.map((q) => q.message), i)} workspace={conv?.id ?? null}
              onRegenerate={parentId ? () => void run(null, p.message.parent_id ?? parentId) : undefined} />
          );
        })}
        {turn && pendingUser && <UserMessage content={pendingUser} busy={busy} />}
        {turn && (
          <AssistantMessage api={api} content={turn.content} reasoning={turn.reasoning} turn={turn} busy={busy}
            agentsWanted={turn.mode === "contemplate" ? options.agents : 0} promptImages={turnImages} workspace={conv?.id ?? null} />
        )}
        {error && <p class="error" role="alert">{error}</p>}
        <div ref={bottom} />
      </div>
      {conv?.id && <FilesPanel api={api} workspace={conv.id} version={filesVersion} />}
      <Composer caps={caps} options={options} setOptions={setOptions} busy={busy}
        onSend={(content) => void run(content, lastStored)} onStop={() => abort.current?.abort()} />
    </div>
  );
}
