import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api/client";
import type { ArtifactRef } from "../api/types";
import { citationsOf } from "../state/citations";
import { groundingOf } from "../state/grounding";
import { runImage } from "../state/run-images";
import { fenced, pythonCode, workspaceFileHref } from "../state/tool-views";
import type { ToolCall } from "../state/turn";
import { Citations } from "./Citations";
import { GroundingView } from "./Grounding";
import { Markdown } from "./Markdown";

interface CardProps {
  call: ToolCall;
  api: Api;
  calls?: ToolCall[]; // the run's calls in order: the images they returned are numbered after the prompt's
  promptImages?: (string | null)[]; // the run's prompt images, by number - 1
  workspace?: string | null; // the conversation whose /mnt/data python wrote to
}

export function ToolCard({ call, api, calls = [], promptImages = [], workspace = null }: CardProps) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (call.finished) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [call.finished]);
  const ms = call.finished ? (call.durationMs ?? 0) : now - call.startedAt;
  const code = pythonCode(call);
  const grounding = groundingOf(call.detail);
  // Drawn over the image the tool looked at (by its number in the run), else over the
  // annotated copy it returned (the same size).
  const own = call.images.find((img) => img.data);
  const groundingSrc = grounding
    ? ((grounding.image !== null ? runImage(grounding.image, promptImages, calls) : null) ?? (own ? `data:${own.mime_type};base64,${own.data}` : null))
    : null;
  const citations = citationsOf(call.detail);
  const exit = call.detail && typeof call.detail.exit_code === "number" ? call.detail.exit_code : null;
  const showsMore = !!call.artifact || !!grounding || citations.length > 0 || call.images.some((img) => img.data);
  return (
    <details class="tool" data-testid="tool-card" data-tool={call.name} open={!call.finished || showsMore}>
      <summary>
        <b>{call.name}</b> · {call.finished ? (call.outcome ?? "done") : "running"} · {(ms / 1000).toFixed(1)} s
        {exit !== null && exit !== 0 && <span class="error"> · exit code {exit}</span>}
      </summary>
      {code !== null ? (
        <div class="tool-code" data-testid="python-code"><Markdown text={fenced(code, "python")} /></div>
      ) : (
        call.arguments && <pre class="tool-args">{call.arguments}</pre>
      )}
      {call.output && <pre class="tool-output">{call.output}</pre>}
      {grounding && <GroundingView grounding={grounding} src={groundingSrc} />}
      <Citations items={citations} />
      {call.files && call.files.length > 0 && (
        <ul class="tool-files" aria-label="Files written">
          {call.files.map((f) =>
            <li key={f.path}>
              {workspace ? <a href={workspaceFileHref(workspace, f.path)} download={f.path.split("/").pop()}>/mnt/data/{f.path}</a> : <span>/mnt/data/{f.path}</span>}
              {typeof f.bytes === "number" && <span class="muted"> · {f.bytes} bytes</span>}
            </li>,
          )}
        </ul>
      )}
      {!(grounding && groundingSrc) && call.images.map((img) =>
        img.data ? (
          <img class="tool-image" key={img.name} alt={img.name} src={`data:${img.mime_type};base64,${img.data}`} />
        ) : (
          <span class="chip" key={img.name}>{img.name} ({img.mime_type})</span>
        ),
      )}
      {call.artifact && <ArtifactView api={api} artifact={call.artifact} />}
    </details>
  );
}

// An artifact runs in a sandboxed frame without allow-same-origin: its script gets an opaque
// origin and cannot reach the app, the cookie or the API.
// The version picker lists 1 to the latest version (asked of the server on mount: an update
// after this call made newer ones), starting at the call's.
export function ArtifactView({ api, artifact }: { api: Api; artifact: ArtifactRef }) {
  const [version, setVersion] = useState(artifact.version);
  const [latest, setLatest] = useState(artifact.version);
  const [code, setCode] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.get<{ version: number }>(`/v1/artifacts/${encodeURIComponent(artifact.id)}?format=json`).then(
      (a) => { if (live && typeof a.version === "number") setLatest(Math.max(a.version, artifact.version)); },
      (e: Error) => { if (live) setError(`could not ask for the artifact's latest version: ${e.message}`); },
    );
    return () => { live = false; };
  }, [api, artifact.id, artifact.version]);
  const src = `/v1/artifacts/${encodeURIComponent(artifact.id)}?version=${version}`;
  async function toggleCode() {
    if (code !== null) return setCode(null);
    try {
      const a = await api.get<{ content: string }>(`${src}&format=json`);
      setCode(a.content);
    } catch (e) {
      setError(`could not load the artifact's code: ${(e as Error).message}`);
    }
  }
  return (
    <div class="artifact">
      <div class="artifact-bar">
        <span>{artifact.title ?? artifact.id}</span>
        <label>
          Version{" "}
          <select value={version} onChange={(e) => { setVersion(Number(e.currentTarget.value)); setCode(null); }}>
            {Array.from({ length: latest }, (_, i) => i + 1).map((v) => (
              <option value={v} key={v}>{v}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={toggleCode}>{code !== null ? "Preview" : "Code"}</button>
        <a href={src} download={`${artifact.title ?? artifact.id}-v${version}`}>Download</a>
      </div>
      {error && <p class="error">{error}</p>}
      {code !== null ? (
        <pre class="artifact-code">{code}</pre>
      ) : (
        <iframe data-testid="artifact-frame" title={artifact.title ?? "artifact"} sandbox="allow-scripts" src={src} />
      )}
    </div>
  );
}
