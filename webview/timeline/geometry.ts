// Where things go on the chart, and how the keyboard moves across it. Pure, so unit tests run it.

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Area {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Half the size of the peak marker's triangle, in CSS pixels. */
export const MARKER_RADIUS = 6;
/** Space between the marker and its label. */
export const LABEL_GAP = 6;

export function markerBox(at: { x: number; y: number }, r = MARKER_RADIUS): Box {
  return { x: at.x - r, y: at.y - r, w: 2 * r, h: 2 * r };
}

export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * The peak label beside its marker, never on it: to the right, or to the left when the right has
 * no room, vertically centred on the marker and kept inside the plot.
 */
export function peakLabelBox(marker: { x: number; y: number }, size: { w: number; h: number }, area: Area): Box {
  const offset = MARKER_RADIUS + LABEL_GAP;
  const right = marker.x + offset;
  const x = right + size.w <= area.right ? right : Math.max(area.left, marker.x - offset - size.w);
  const y = Math.min(Math.max(area.top, marker.y - size.h / 2), area.bottom - size.h);
  const box = { x, y, w: size.w, h: size.h };
  // A plot too narrow for either side: above or below the marker instead.
  if (!overlaps(box, markerBox(marker))) return box;
  const above = marker.y - offset - size.h;
  return { x: Math.max(area.left, marker.x - size.w / 2), y: above >= area.top ? above : marker.y + offset, w: size.w, h: size.h };
}

/** The point the keyboard cursor moves to, or null when the key does not move it. */
export function cursorAfterKey(key: string, shift: boolean, at: number, count: number, peak: number): number | null {
  if (count === 0) return null;
  const jump = shift ? Math.max(1, Math.round(count / 10)) : 1;
  const clamp = (i: number) => Math.min(count - 1, Math.max(0, i));
  switch (key) {
    case 'ArrowRight': return clamp(at + jump);
    case 'ArrowLeft': return clamp(at - jump);
    case 'PageDown': return clamp(at + Math.max(1, Math.round(count / 10)));
    case 'PageUp': return clamp(at - Math.max(1, Math.round(count / 10)));
    case 'Home': return 0;
    case 'End': return count - 1;
    case 'p': case 'P': return clamp(peak);
    default: return null;
  }
}
