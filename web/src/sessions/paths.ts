// Where a session lives in the web app, and its cache key.

export function sessionPath(id: string): string {
  return `/sessions/${encodeURIComponent(id)}`;
}

/** A session's key, shared by the page, the lists and the answers. */
export const sessionKey = (id: string) => ["session", id];
