// Who is signed in, for every screen: `useMe` reads `GET /session` once and shares it; `RequireAuth`
// sends a signed-out visitor to sign in and, after, back to the page they asked for.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { api, call, type Me } from "../api/client";
import { Loading } from "../ui/Status";

export const ME_KEY = ["me"] as const;

async function fetchMe(): Promise<Me | null> {
  // `/session` answers 200 for a visitor too, so a signed-out page load logs no error.
  return (await call(api.GET("/session"))).user ?? null;
}

export function useMe() {
  return useQuery({ queryKey: ME_KEY, queryFn: fetchMe, staleTime: 60_000 });
}

/** What the server says of itself in `GET /session`, which does not change while it runs. */
function useServerFacts() {
  return useQuery({
    queryKey: ["server-facts"],
    queryFn: () => call(api.GET("/session")),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** The largest file the server accepts, in bytes (`undefined` until known). */
export function useUploadLimit(): number | undefined {
  return useServerFacts().data?.max_upload_bytes;
}

/** Whether the server sends email (`undefined` until known). */
export function useEmailEnabled(): boolean | undefined {
  return useServerFacts().data?.email_enabled;
}

/** The signed-in person; only under `RequireAuth`. */
export function useSignedIn(): Me {
  const { data } = useMe();
  if (!data) throw new Error("useSignedIn outside RequireAuth");
  return data;
}

/** Where to go after signing in: a path of this app, never another site. */
export function safeNext(next: string | null): string {
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading />;
  if (me.data) return children;
  if (me.isError) throw me.error;
  const next = encodeURIComponent(location.pathname + location.search + location.hash);
  return <Navigate to={`/signin?next=${next}`} replace />;
}

/** Signs out here and on the server, and forgets what this browser kept of the account. */
export function useSignOut() {
  const client = useQueryClient();
  return async () => {
    try {
      await call(api.POST("/auth/logout"));
    } finally {
      client.clear();
      client.setQueryData(ME_KEY, null);
      await forgetLocalDocuments();
    }
  };
}

/** Deletes the offline copies of documents (IndexedDB): the next person here must not see them. */
async function forgetLocalDocuments(): Promise<void> {
  if (!("indexedDB" in window) || !indexedDB.databases) return;
  const databases = await indexedDB.databases();
  await Promise.all(
    databases
      .map((db) => db.name)
      .filter((name): name is string => !!name)
      .map(
        (name) =>
          new Promise<void>((resolve) => {
            const request = indexedDB.deleteDatabase(name);
            request.onsuccess = request.onerror = request.onblocked = () => resolve();
          }),
      ),
  );
}
