import type { ItemKind } from "../api/client";

const SEGMENT: Record<ItemKind, string> = { document: "documents", board: "boards", room: "rooms" };

/** The stable URL of an item: `/projects/{project_id}/{documents|boards|rooms}/{item_id}`. */
export function itemPath(projectId: string, kind: ItemKind, itemId: string): string {
  return `/projects/${encodeURIComponent(projectId)}/${SEGMENT[kind]}/${encodeURIComponent(itemId)}`;
}

export function projectPath(projectId: string): string {
  return `/projects/${encodeURIComponent(projectId)}`;
}
