import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api/client";
import type { FileItem, KeyItem, ListOf, MemoryItem } from "../api/types";

// One section per store the user owns; a route the server lacks shows why, not a blank.
function useList<T>(api: Api, path: string, tick: number): [T[] | null, string | null] {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.get<ListOf<T>>(path).then(
      (l) => { setItems(l.data); setError(null); },
      (e: Error) => setError(`${path}: ${e.message}`),
    );
  }, [path, tick]);
  return [items, error];
}

export function MeView({ api, onSignedOut }: { api: Api; onSignedOut: () => void }) {
  const [tick, setTick] = useState(0);
  const bump = () => setTick((t) => t + 1);
  const [memory, memoryError] = useList<MemoryItem>(api, "/v1/memory", tick);
  const [files, filesError] = useList<FileItem>(api, "/v1/files", tick);
  const [keys, keysError] = useList<KeyItem>(api, "/v1/me/keys", tick);
  const [memoryOn, setMemoryOn] = useState<boolean | null>(null);
  const [newKey, setNewKey] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.get<{ enabled: boolean }>("/v1/memory/settings").then((s) => setMemoryOn(s.enabled), () => setMemoryOn(null));
  }, [tick]);

  const act = (what: string, f: () => Promise<unknown>) => async () => {
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(`${what}: ${(e as Error).message}`);
    }
    bump();
  };

  return (
    <main class="me">
      <h2>Me</h2>
      {error && <p class="error" role="alert">{error}</p>}
      <section>
        <h3>Memory</h3>
        {memoryOn !== null && (
          <label>
            <input type="checkbox" checked={memoryOn} onChange={act("memory setting", () => api.post("/v1/memory/settings", { enabled: !memoryOn }))} />
            Use my memory in chats
          </label>
        )}
        {memoryError && <p class="error">{memoryError}</p>}
        <ul>
          {memory?.map((m) => (
            <li key={m.id}>
              {m.text}{" "}
              <button type="button" aria-label={`Delete memory ${m.text}`} onClick={act("delete memory", () => api.del(`/v1/memory/${m.id}`))}>Delete</button>
            </li>
          ))}
          {memory?.length === 0 && <li class="muted">Nothing remembered.</li>}
        </ul>
      </section>
      <section>
        <h3>Files</h3>
        {filesError && <p class="error">{filesError}</p>}
        <ul>
          {files?.map((f) => (
            <li key={f.id}>
              {f.filename} <small>({f.bytes} bytes)</small>{" "}
              <button type="button" aria-label={`Delete file ${f.filename}`} onClick={act("delete file", () => api.del(`/v1/files/${f.id}`))}>Delete</button>
            </li>
          ))}
          {files?.length === 0 && <li class="muted">No files.</li>}
        </ul>
      </section>
      <section>
        <h3>API keys</h3>
        {keysError && <p class="error">{keysError}</p>}
        {newKey && (
          <p class="new-key" role="status">
            New key (shown once, copy it now): <code data-testid="new-key">{newKey}</code>
          </p>
        )}
        <ul>
          {keys?.map((k) => (
            <li key={k.id}>
              {k.name || k.id}{" "}
              <button type="button" aria-label={`Revoke key ${k.name || k.id}`} onClick={act("revoke key", () => api.del(`/v1/me/keys/${k.id}`))}>Revoke</button>
            </li>
          ))}
        </ul>
        {keys && (
          <button type="button" onClick={act("create key", async () => {
            const k = await api.post<KeyItem>("/v1/me/keys", { name: "web" });
            setNewKey(k.key ?? null);
          })}>Create key</button>
        )}
      </section>
      <section>
        <h3>Everything</h3>
        <a class="button" href="/v1/me/export" download="muse-export.json">Export everything</a>{" "}
        {confirming ? (
          <>
            <span>Delete your account, conversations, files, memory and keys? This cannot be undone.</span>{" "}
            <button type="button" class="danger" onClick={act("delete account", async () => { await api.del("/v1/me"); onSignedOut(); })}>Yes, delete everything</button>{" "}
            <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
          </>
        ) : (
          <button type="button" class="danger" onClick={() => setConfirming(true)}>Delete my account</button>
        )}
      </section>
    </main>
  );
}
