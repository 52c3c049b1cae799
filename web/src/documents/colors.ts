// Each person's colour for cursors and avatars, the same on every screen and for every viewer.
// Light tones: names are drawn on them in near-black, which keeps the contrast above 4.5:1.
export const PALETTE = [
  "#ffb3ba",
  "#ffd59e",
  "#fff07a",
  "#b5e8a8",
  "#9ee6d9",
  "#a8d8ff",
  "#c9c2ff",
  "#f2b8f0",
] as const;

/** A stable colour for a user id (FNV-1a over its characters). */
export function colorFor(id: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return PALETTE[(hash >>> 0) % PALETTE.length] ?? PALETTE[0];
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? "?";
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}
