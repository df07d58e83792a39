import { useEffect, useRef, useState } from "preact/hooks";
import type { Aggregate, ChatOptions, Mode } from "../api/chat";
import type { Capabilities, ContentPart } from "../api/types";
import { audioPart, imageDataUrl } from "../media/image";
import { makersFor } from "../state/make-tools";

interface Props {
  caps: Capabilities;
  options: ChatOptions;
  setOptions: (o: ChatOptions) => void;
  busy: boolean;
  onSend: (content: ContentPart[]) => void;
  onStop: () => void;
}

export function Composer({ caps, options, setOptions, busy, onSend, onStop }: Props) {
  const [text, setText] = useState("");
  const [parts, setParts] = useState<ContentPart[]>([]);
  const [refusal, setRefusal] = useState<string | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => area.current?.focus(), []);

  async function attach(files: FileList | File[] | null) {
    setRefusal(null);
    for (const file of Array.from(files ?? [])) {
      try {
        if (file.type.startsWith("image/")) {
          if (!caps.vision) throw new Error(`${file.name}: this model cannot see images (the server has no vision projector); send text instead`);
          const url = await imageDataUrl(file, caps.max_pixels);
          setParts((p) => [...p, { type: "image_url", image_url: { url } }]);
        } else if (file.type.startsWith("audio/") || /\.(wav|mp3|flac)$/i.test(file.name)) {
          if (!caps.audio) throw new Error(`${file.name}: this model cannot hear audio (no audio projector loaded); send text instead`);
          const audio = await audioPart(file);
          setParts((p) => [...p, { type: "input_audio", input_audio: audio }]);
        } else {
          throw new Error(`${file.name}: only images and wav/mp3/flac audio can be attached`);
        }
      } catch (e) {
        setRefusal((e as Error).message);
      }
    }
  }

  function send() {
    const trimmed = text.trim();
    if (busy || (!trimmed && parts.length === 0)) return;
    onSend([...parts, ...(trimmed ? [{ type: "text" as const, text: trimmed }] : [])]);
    setText("");
    setParts([]);
    if (options.force) setOptions({ ...options, force: null }); // one forced turn, then back to none
  }

  const makers = makersFor(caps.tools);
  const orchestrate = options.mode === "orchestrate"; // its sub-agents take no server tools
  const toggleTool = (name: string) =>
    setOptions({ ...options, tools: options.tools.includes(name) ? options.tools.filter((t) => t !== name) : [...options.tools, name] });

  return (
    <div
      class="composer"
      onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => { e.preventDefault(); void attach(e.dataTransfer?.files ?? null); }}
    >
      <div class="composer-options">
        <label>
          Mode{" "}
          <select data-testid="mode-select" value={options.mode} onChange={(e) => setOptions({ ...options, mode: e.currentTarget.value as Mode })}>
            <option value="instant">Instant</option>
            <option value="thinking">Thinking</option>
            <option value="contemplate">Contemplating</option>
            <option value="orchestrate">Orchestrate</option>
          </select>
        </label>
        {options.mode === "thinking" && (
          <label>
            Budget {options.thinkBudget}
            <input type="range" min={64} max={4096} step={64} aria-label="Thinking budget" value={options.thinkBudget}
              onInput={(e) => setOptions({ ...options, thinkBudget: Number(e.currentTarget.value) })} />
          </label>
        )}
        {options.mode === "contemplate" && (
          <>
            <label>
              Agents{" "}
              <input type="number" data-testid="agents-input" min={2} max={Math.min(16, caps.max_agents)} value={options.agents}
                onInput={(e) => setOptions({ ...options, agents: Math.max(2, Math.min(16, Number(e.currentTarget.value) || 2)) })} />
            </label>
            <label>
              Aggregate{" "}
              <select value={options.aggregate} onChange={(e) => setOptions({ ...options, aggregate: e.currentTarget.value as Aggregate })}>
                <option value="vote">vote</option>
                <option value="confidence">confidence</option>
                <option value="synthesize">synthesize</option>
              </select>
            </label>
          </>
        )}
        {options.mode === "orchestrate" && (
          <label title="A planner splits the request into at most this many sub-tasks; a sub-agent works on each, a merger answers">
            Sub-tasks{" "}
            <input type="number" data-testid="subtasks-input" min={1} max={8} value={options.maxSubtasks ?? 4}
              onInput={(e) => setOptions({ ...options, maxSubtasks: Math.max(1, Math.min(8, Number(e.currentTarget.value) || 1)) })} />
          </label>
        )}
        {orchestrate && caps.tools.length > 0 && <span class="hint">Sub-agents use no tools</span>}
        {!orchestrate && caps.tools.map((t) => (
          <label key={t} class="tool-toggle">
            <input type="checkbox" checked={options.tools.includes(t)} onChange={() => toggleTool(t)} /> {t}
          </label>
        ))}
        {!orchestrate && makers.length > 0 && (
          <label title="Make the next answer call this tool">
            Make{" "}
            <select data-testid="force-tool" value={options.force?.fn ?? ""}
              onChange={(e) => {
                const m = makers.find((x) => x.fn === e.currentTarget.value);
                setOptions({ ...options, force: m ? { tool: m.tool, fn: m.fn } : null });
              }}>
              <option value="">none</option>
              {makers.map((m) => <option value={m.fn} key={m.fn}>{m.label} ({m.fn})</option>)}
            </select>
          </label>
        )}
      </div>
      {parts.length > 0 && (
        <div class="attachments">
          {parts.map((p, i) => (
            <span class="chip" key={i}>
              {p.type === "image_url" ? <img alt="attachment" src={p.image_url.url} /> : "audio"}
              <button type="button" aria-label="Remove attachment" onClick={() => setParts(parts.filter((_, j) => j !== i))}>×</button>
            </span>
          ))}
        </div>
      )}
      {refusal && <p class="error" role="alert" data-testid="attach-refusal">{refusal}</p>}
      <div class="composer-row">
        <label class="attach" aria-label="Attach image or audio" title="Attach image or audio">
          {/* An SVG paperclip: an emoji needs a font many machines lack (it drew as a box). */}
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor"
            stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <path d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.5 3.5 0 0 1 5 5l-8.6 8.6a2 2 0 0 1-2.8-2.8l7.9-7.9" />
          </svg>
          <input type="file" data-testid="attach-input" accept="image/*,audio/wav,audio/mpeg,audio/flac,.wav,.mp3,.flac" multiple
            onChange={(e) => { void attach(e.currentTarget.files); e.currentTarget.value = ""; }} />
        </label>
        <textarea
          ref={area}
          data-testid="composer"
          aria-label="Message"
          placeholder="Ask anything"
          rows={1}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onPaste={(e) => {
            const files = Array.from(e.clipboardData?.files ?? []);
            if (files.length) { e.preventDefault(); void attach(files); }
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
          }}
        />
        {busy ? (
          <button type="button" data-testid="stop" aria-label="Stop" onClick={onStop}>■</button>
        ) : (
          <button type="button" data-testid="send" aria-label="Send" onClick={send}>➤</button>
        )}
      </div>
    </div>
  );
}
