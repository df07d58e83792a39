import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "../api/client";
import type { ConversationSummary, ListOf } from "../api/types";

interface Props {
  api: Api;
  selected: string | null;
  refresh: number; // bumped when a conversation changed
  onSelect: (id: string | null) => void;
  onMe: () => void;
  searchRef: { current: HTMLInputElement | null };
}

function download(name: string, body: BlobPart, type: string) {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function Sidebar({ api, selected, refresh, onSelect, onMe, searchRef }: Props) {
  const [items, setItems] = useState<ConversationSummary[]>([]);
  const [query, setQuery] = useState("");
  const [renaming, setRenaming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);

  async function reload() {
    const mine = ++seq.current;
    try {
      const q = query.trim() ? `?q=${encodeURIComponent(query.trim())}` : "";
      const list = await api.get<ListOf<ConversationSummary>>(`/v1/conversations${q}`);
      if (mine !== seq.current) return;
      // A server without search answers the whole list: filter here so the box still works.
      const needle = query.trim().toLowerCase();
      setItems(needle && !list.data.some((c) => c.snippet !== undefined)
        ? list.data.filter((c) => (c.title ?? "").toLowerCase().includes(needle))
        : list.data);
      setError(null);
    } catch (e) {
      setError(`Could not list conversations: ${(e as Error).message}`);
    }
  }
  useEffect(() => {
    const timer = setTimeout(() => void reload(), query ? 200 : 0);
    return () => clearTimeout(timer);
  }, [query, refresh]);

  async function rename(id: string, title: string) {
    setRenaming(null);
    try {
      await api.post(`/v1/conversations/${encodeURIComponent(id)}`, { title });
    } catch (e) {
      setError(`Could not rename: ${(e as Error).message}`);
    }
    void reload();
  }
  async function remove(id: string) {
    try {
      await api.del(`/v1/conversations/${encodeURIComponent(id)}`);
      if (id === selected) onSelect(null);
    } catch (e) {
      setError(`Could not delete: ${(e as Error).message}`);
    }
    void reload();
  }
  async function exportAs(c: ConversationSummary, format: "json" | "markdown") {
    try {
      const res = await api.request("GET", `/v1/conversations/${encodeURIComponent(c.id)}/export?format=${format}`);
      download(`${c.title ?? c.id}.${format === "json" ? "json" : "md"}`, await res.blob(), format === "json" ? "application/json" : "text/markdown");
    } catch (e) {
      setError(`Could not export: ${(e as Error).message}`);
    }
  }

  return (
    <nav class="sidebar" aria-label="Conversations">
      <button type="button" class="primary" data-testid="new-chat" onClick={() => onSelect(null)}>+ New chat</button>
      <input ref={searchRef} type="search" data-testid="conv-search" aria-label="Search conversations" placeholder="Search (Ctrl+K)"
        value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      {error && <p class="error" role="alert">{error}</p>}
      <ul class="conversations">
        {items.map((c) => (
          <li key={c.id} class={c.id === selected ? "selected" : ""} data-testid="conv-item" data-id={c.id}>
            {renaming === c.id ? (
              <form onSubmit={(e) => { e.preventDefault(); void rename(c.id, new FormData(e.currentTarget).get("title") as string); }}>
                <input name="title" aria-label="New title" defaultValue={c.title ?? ""} autoFocus
                  onKeyDown={(e) => e.key === "Escape" && setRenaming(null)} />
              </form>
            ) : (
              <button type="button" class="conv-title" onClick={() => onSelect(c.id)}>
                {c.title || "Untitled"}
                {c.snippet && <small class="snippet">{c.snippet}</small>}
              </button>
            )}
            <details class="conv-menu">
              <summary aria-label={`Actions for ${c.title || "conversation"}`}>⋯</summary>
              <div class="menu">
                <button type="button" onClick={() => setRenaming(c.id)}>Rename</button>
                <button type="button" onClick={() => void exportAs(c, "json")}>Export JSON</button>
                <button type="button" onClick={() => void exportAs(c, "markdown")}>Export Markdown</button>
                <button type="button" class="danger" onClick={() => void remove(c.id)}>Delete</button>
              </div>
            </details>
          </li>
        ))}
      </ul>
      <button type="button" data-testid="me-link" onClick={onMe}>Me: memory, files, keys</button>
    </nav>
  );
}
