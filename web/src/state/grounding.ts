// visual_grounding's answer as shapes to draw over the image it looked at. The tool's detail
// (src/agent/tools/visual-grounding.cpp) is {image, mode, query, width, height, count, items},
// each item {label, box_norm, box_px} or {label, point_norm, point_px}: pixels of the original
// image (boxes half-open, [x1, y1, x2, y2]) and the same in integers 0–1000 of its width and height.

export type GroundingMode = "boxes" | "points" | "count";

export interface GroundingItem {
  label: string;
  box?: [number, number, number, number]; // pixels of the image the tool saw
  point?: [number, number];
}

export interface Grounding {
  image: number | null; // the run's image number (user's images first, then the tools')
  mode: GroundingMode;
  query: string;
  width: number; // the image the tool saw, in pixels
  height: number;
  count: number;
  items: GroundingItem[];
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function numbers(v: unknown, n: number): number[] | null {
  return Array.isArray(v) && v.length === n && v.every(finite) ? (v as number[]) : null;
}

// The grounding in a call's detail, or null when the detail is not one (another tool, a failed call).
export function groundingOf(detail: unknown): Grounding | null {
  if (!detail || typeof detail !== "object") return null;
  const d = detail as Record<string, unknown>;
  if (!Array.isArray(d.items) || !finite(d.width) || !finite(d.height) || d.width <= 0 || d.height <= 0) return null;
  const w = d.width;
  const h = d.height;
  const items: GroundingItem[] = [];
  for (const raw of d.items) {
    if (!raw || typeof raw !== "object") continue;
    const it = raw as Record<string, unknown>;
    const label = typeof it.label === "string" ? it.label : "";
    const px = numbers(it.box_px, 4);
    const norm = numbers(it.box_norm, 4);
    const ppx = numbers(it.point_px, 2);
    const pnorm = numbers(it.point_norm, 2);
    if (px) items.push({ label, box: [px[0]!, px[1]!, px[2]!, px[3]!] });
    else if (norm) items.push({ label, box: [(norm[0]! * w) / 1000, (norm[1]! * h) / 1000, (norm[2]! * w) / 1000, (norm[3]! * h) / 1000] });
    else if (ppx) items.push({ label, point: [ppx[0]!, ppx[1]!] });
    else if (pnorm) items.push({ label, point: [(pnorm[0]! * w) / 1000, (pnorm[1]! * h) / 1000] });
  }
  const mode: GroundingMode = d.mode === "points" || d.mode === "count" ? d.mode : "boxes";
  return {
    image: finite(d.image) ? d.image : null,
    mode,
    query: typeof d.query === "string" ? d.query : "",
    width: w,
    height: h,
    count: finite(d.count) ? d.count : items.length,
    items,
  };
}

export type OverlayShape =
  | { kind: "box"; n: number; label: string; x: number; y: number; w: number; h: number }
  | { kind: "point"; n: number; label: string; cx: number; cy: number };

const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);

// The items in the coordinates of an SVG whose viewBox is the shown image's natural size
// (0 0 naturalWidth naturalHeight). The tool's pixels are of the image it saw (width × height);
// the shown image may be another size of the same picture (the upload, the annotated copy), so
// each axis scales on its own. Shapes are clamped to the image.
export function overlayShapes(g: Grounding, naturalWidth: number, naturalHeight: number): OverlayShape[] {
  const sx = naturalWidth / g.width;
  const sy = naturalHeight / g.height;
  return g.items.flatMap((it, i): OverlayShape[] => {
    if (it.box) {
      const x1 = clamp(Math.min(it.box[0], it.box[2]) * sx, naturalWidth);
      const y1 = clamp(Math.min(it.box[1], it.box[3]) * sy, naturalHeight);
      const x2 = clamp(Math.max(it.box[0], it.box[2]) * sx, naturalWidth);
      const y2 = clamp(Math.max(it.box[1], it.box[3]) * sy, naturalHeight);
      return [{ kind: "box", n: i + 1, label: it.label, x: x1, y: y1, w: x2 - x1, h: y2 - y1 }];
    }
    if (it.point) {
      return [{ kind: "point", n: i + 1, label: it.label, cx: clamp(it.point[0] * sx, naturalWidth), cy: clamp(it.point[1] * sy, naturalHeight) }];
    }
    return [];
  });
}

// A stroke that reads the same at any image size: ~0.4% of the shorter side, at least 2 px.
export function overlayStroke(naturalWidth: number, naturalHeight: number): number {
  return Math.max(2, Math.round(Math.min(naturalWidth, naturalHeight) / 250));
}
