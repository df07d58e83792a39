import { useState } from "preact/hooks";
import type { Api } from "../api/client";
import type { Session } from "../api/types";

// The key is sent once to open a session (an httpOnly cookie); it is not kept anywhere.
export function SignIn({ api, onSession }: { api: Api; onSession: (s: Session) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    try {
      const s = await api.post<Session>("/v1/session", { api_key: key.trim() });
      setKey("");
      onSession(s);
    } catch (err) {
      setError(`Sign-in failed: ${(err as Error).message}`);
    }
  }
  return (
    <main class="signin">
      <form onSubmit={submit}>
        <h1>muse</h1>
        <label>
          API key
          <input type="password" data-testid="signin-key" autoComplete="off" placeholder="muse_k_..." value={key}
            onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" data-testid="signin-submit" disabled={!key.trim()}>Sign in</button>
        {error && <p class="error" role="alert">{error}</p>}
        <p class="hint">Create a key with <code>muse keys create --user NAME</code>. It is sent once and not stored in this browser.</p>
      </form>
    </main>
  );
}
