import { useState } from "preact/hooks";
import { overlayShapes, overlayStroke, type Grounding } from "../state/grounding";

const COLOURS = ["#e11d48", "#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d"];

// visual_grounding's items drawn over the image it looked at: an SVG laid over the <img>, its
// viewBox the image's natural size, so the shapes scale with the image however it is shown.
export function GroundingView({ grounding, src }: { grounding: Grounding; src: string | null }) {
  const [natural, setNatural] = useState<{ w: number; h: number } | null>(null);
  const w = natural?.w ?? grounding.width;
  const h = natural?.h ?? grounding.height;
  const shapes = overlayShapes(grounding, w, h);
  const stroke = overlayStroke(w, h);
  const font = Math.max(12, Math.round(Math.min(w, h) / 30));
  const count = `${grounding.count} ${grounding.query ? `“${grounding.query}”` : "found"}`;
  return (
    <div class="grounding" data-testid="grounding" data-count={grounding.count} data-mode={grounding.mode}>
      <div class="grounding-count" data-testid="grounding-count">
        {grounding.mode === "count" ? "Count" : "Found"}: <b>{count}</b>
      </div>
      {src && (
        <div class="grounding-frame">
          <img src={src} alt={`image ${grounding.image ?? ""} with ${count} marked`}
            onLoad={(e) => setNatural({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight })} />
          <svg data-testid="grounding-overlay" viewBox={`0 0 ${w} ${h}`} preserveAspectRatio="none" aria-hidden="true">
            {shapes.map((s) => {
              const colour = COLOURS[(s.n - 1) % COLOURS.length]!;
              const name = `${s.n}. ${s.label}`;
              return s.kind === "box" ? (
                <g key={s.n}>
                  <rect x={s.x} y={s.y} width={s.w} height={s.h} fill="none" stroke={colour} stroke-width={stroke}><title>{name}</title></rect>
                  <text x={s.x + stroke} y={Math.max(font, s.y - stroke)} fill={colour} font-size={font} paint-order="stroke" stroke="#fff" stroke-width={stroke}>{name}</text>
                </g>
              ) : (
                <g key={s.n}>
                  <circle cx={s.cx} cy={s.cy} r={stroke * 3} fill={colour} stroke="#fff" stroke-width={stroke}><title>{name}</title></circle>
                  <text x={s.cx + stroke * 4} y={s.cy + font / 3} fill={colour} font-size={font} paint-order="stroke" stroke="#fff" stroke-width={stroke}>{name}</text>
                </g>
              );
            })}
          </svg>
        </div>
      )}
      {grounding.items.length > 0 && (
        <ol class="grounding-items">
          {grounding.items.map((it, i) => (
            <li key={i}>
              {it.label || grounding.query}{" "}
              <span class="muted">
                {it.box ? `[${it.box.map((v) => Math.round(v)).join(", ")}] px` : it.point ? `(${it.point.map((v) => Math.round(v)).join(", ")}) px` : ""}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
