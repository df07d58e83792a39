import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Api } from "./api/client";
import type { Capabilities, ListOf, Model, Session } from "./api/types";
import { Sidebar } from "./components/Sidebar";
import { ChatView } from "./views/Chat";
import { MeView } from "./views/Me";
import { SignIn } from "./views/SignIn";

// What a model that says nothing about itself can do: text only.
const NO_CAPABILITIES: Capabilities = { vision: false, audio: false, reasoning: false, max_pixels: 0, max_agents: 16, tools: [], context: 0 };

type Theme = "light" | "dark";

export function App({ api }: { api: Api }) {
  const [session, setSession] = useState<Session | null | "loading">("loading");
  const [caps, setCaps] = useState<Capabilities>(NO_CAPABILITIES);
  const [view, setView] = useState<"chat" | "me">("chat");
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  const [drawer, setDrawer] = useState(false);
  const [theme, setTheme] = useState<Theme | null>(() => (localStorage.getItem("muse.theme") as Theme | null) ?? null);
  const [fatal, setFatal] = useState<string | null>(null);
  const stopRef = useRef<(() => void) | null>(null);
  const searchRef = useRef<HTMLInputElement | null>(null);

  function adopt(s: Session) {
    api.csrf = s.csrf_token ?? null;
    setSession(s);
  }

  useEffect(() => {
    api.get<Session>("/v1/session").then(adopt, (e: unknown) => {
      // A server without sessions (today's, under --no-auth) answers 404: no sign-in there.
      if (e instanceof ApiError && e.status === 404) adopt({ object: "session", user: "local", auth: "none" });
      else if (e instanceof ApiError && e.status === 401) setSession(null);
      else setFatal(`Cannot reach muse serve: ${(e as Error).message}`);
    });
  }, []);

  useEffect(() => {
    if (!session || session === "loading") return;
    api.get<ListOf<Model>>("/v1/models").then(
      (l) => setCaps({ ...NO_CAPABILITIES, ...(l.data[0]?.muse ?? {}) }),
      () => setCaps(NO_CAPABILITIES),
    );
  }, [session]);

  useEffect(() => {
    if (theme) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
  }, [theme]);

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.key === "Escape" && stopRef.current) { e.preventDefault(); stopRef.current(); }
      else if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "k") {
        e.preventDefault(); setView("chat"); setDrawer(true); searchRef.current?.focus();
      } else if ((e.ctrlKey || e.metaKey) && e.shiftKey && e.key.toLowerCase() === "o") {
        e.preventDefault(); setView("chat"); setConversationId(null);
      }
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  function toggleTheme() {
    const current = theme ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
    const next: Theme = current === "dark" ? "light" : "dark";
    localStorage.setItem("muse.theme", next);
    setTheme(next);
  }

  async function signOut() {
    try {
      await api.del("/v1/session");
    } catch {
      // no session route (no-auth server): nothing to end
    }
    api.csrf = null;
    setSession(null);
  }

  if (fatal) return <main class="signin"><p class="error" role="alert">{fatal}</p></main>;
  if (session === "loading") return <main class="signin"><p>Loading…</p></main>;
  if (!session) return <SignIn api={api} onSession={adopt} />;

  return (
    <div class={`app ${drawer ? "drawer-open" : ""}`}>
      <header class="topbar">
        <button type="button" class="menu-button" aria-label="Conversations" aria-expanded={drawer} onClick={() => setDrawer(!drawer)}>☰</button>
        <span class="brand">muse</span>
        <span class="user">{session.user}</span>
        <button type="button" data-testid="theme-toggle" aria-label="Toggle dark theme" onClick={toggleTheme}>◐</button>
        {session.auth !== "none" && <button type="button" data-testid="signout" onClick={() => void signOut()}>Sign out</button>}
      </header>
      <Sidebar api={api} selected={conversationId} refresh={refresh} searchRef={searchRef}
        onSelect={(id) => { setConversationId(id); setView("chat"); setDrawer(false); }}
        onMe={() => { setView("me"); setDrawer(false); }} />
      <div class="scrim" onClick={() => setDrawer(false)} />
      {view === "me" ? (
        <MeView api={api} onSignedOut={() => { api.csrf = null; setSession(null); }} />
      ) : (
        <ChatView api={api} caps={caps} conversationId={conversationId} stopRef={stopRef}
          onCreated={(id) => { setConversationId(id); setRefresh((r) => r + 1); }}
          onChanged={() => setRefresh((r) => r + 1)} />
      )}
    </div>
  );
}
