import { useEffect, useState, useSyncExternalStore } from "react";
import { type DocSession, openDocSession } from "./provider";
import type { SaveStatus } from "./saveState";

/** The live session of one document while the component is mounted. */
export function useDocSession(docId: string): DocSession | null {
  const [session, setSession] = useState<DocSession | null>(null);
  useEffect(() => {
    const opened = openDocSession(docId);
    setSession(opened);
    return () => {
      setSession(null);
      opened.destroy();
    };
  }, [docId]);
  return session;
}

export type ConnectionStatus = "connected" | "connecting" | "offline";

export function useConnection(session: DocSession): ConnectionStatus {
  return useSyncExternalStore(
    (notify) => {
      const { provider } = session;
      provider.on("status", notify);
      window.addEventListener("online", notify);
      window.addEventListener("offline", notify);
      return () => {
        provider.off("status", notify);
        window.removeEventListener("online", notify);
        window.removeEventListener("offline", notify);
      };
    },
    () => {
      if (!navigator.onLine) return "offline";
      if (session.provider.wsconnected) return "connected";
      return session.provider.wsconnecting ? "connecting" : "offline";
    },
  );
}

export function useSaveStatus(session: DocSession): SaveStatus {
  return useSyncExternalStore(
    (notify) => session.save.subscribe(notify),
    () => session.save.status(),
  );
}

export interface Participant {
  clientId: number;
  name: string;
  color: string;
  self: boolean;
}

/** Who has the document open, one entry per person, from the awareness states. */
export function usePresence(session: DocSession): Participant[] {
  const [participants, setParticipants] = useState<Participant[]>([]);
  useEffect(() => {
    const { awareness } = session.provider;
    const read = () => {
      const seen = new Map<string, Participant>();
      for (const [clientId, state] of awareness.getStates()) {
        const user = (state as { user?: { name?: unknown; color?: unknown } }).user;
        const account = (state as { account?: { id?: unknown } }).account;
        if (typeof user?.name !== "string") continue;
        const key = typeof account?.id === "string" ? account.id : `client-${clientId}`;
        const self = clientId === awareness.clientID;
        if (!seen.has(key) || self) {
          seen.set(key, {
            clientId,
            name: user.name,
            color: typeof user.color === "string" ? user.color : "#ccc",
            self,
          });
        }
      }
      setParticipants([...seen.values()].sort((a, b) => Number(b.self) - Number(a.self)));
    };
    read();
    awareness.on("change", read);
    return () => awareness.off("change", read);
  }, [session]);
  return participants;
}
