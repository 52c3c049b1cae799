// Comments on a document: BlockNote's REST thread store pointed at the server's threads API,
// and the rules that decide what the comment UI offers. The server decides again on every
// request (`crates/workspace/src/comments.rs`); these only keep the UI from offering what it
// would refuse.
import { createUserStore } from "@blocknote/core";
import type { CommentData, ThreadData } from "@blocknote/core/comments";
import { ThreadStoreAuth } from "@blocknote/core/comments";
import { RESTYjsThreadStore } from "@blocknote/core/yjs";
import type * as Y from "yjs";
import type { ProjectRole, Schemas } from "../api/client";

/** What each role may do with threads, as the server's role table says. */
export class HubringThreadAuth extends ThreadStoreAuth {
  constructor(
    private readonly userId: string,
    private readonly role: ProjectRole,
  ) {
    super();
  }

  private get comments(): boolean {
    return this.role !== "viewer";
  }

  private get moderates(): boolean {
    return this.role === "owner" || this.role === "editor";
  }

  private ownsThread(thread: ThreadData): boolean {
    return thread.comments[0]?.userId === this.userId;
  }

  canCreateThread(): boolean {
    return this.comments;
  }
  canAddComment(_thread: ThreadData): boolean {
    return this.comments;
  }
  canUpdateComment(comment: CommentData): boolean {
    return this.comments && comment.userId === this.userId;
  }
  canDeleteComment(comment: CommentData): boolean {
    return this.comments && comment.userId === this.userId;
  }
  canDeleteThread(thread: ThreadData): boolean {
    return this.comments && (this.moderates || this.ownsThread(thread));
  }
  canResolveThread(thread: ThreadData): boolean {
    return this.canDeleteThread(thread);
  }
  canUnresolveThread(thread: ThreadData): boolean {
    return this.canDeleteThread(thread);
  }
  canAddReaction(_comment: CommentData, _emoji?: string): boolean {
    return this.comments;
  }
  canDeleteReaction(comment: CommentData, emoji?: string): boolean {
    return (
      this.comments &&
      comment.reactions.some((r) => r.emoji === emoji && r.userIds.includes(this.userId))
    );
  }
}

/** The thread store of an item: writes go to the API, reads come from the document's `threads`
 * map, which only the server writes. */
export function threadStore(
  itemId: string,
  threads: Y.Map<unknown>,
  userId: string,
  role: ProjectRole,
): RESTYjsThreadStore {
  return new RESTYjsThreadStore(
    `/api/v1/items/${encodeURIComponent(itemId)}/threads`,
    {},
    threads,
    new HubringThreadAuth(userId, role),
  );
}

/** The names of comment authors: the project's members, known from the start. BlockNote reads
 * the person who resolved a thread synchronously and throws when they are not loaded yet, so the
 * store is filled before the first thread is shown; anyone else (a former member) is looked up
 * and shown as unknown. */
export function membersStore(members: Schemas["MemberView"][], unknown: string) {
  const store = createUserStore(async (ids) =>
    ids.map((id) => ({ id, username: unknown, avatarUrl: "" })),
  );
  store.setUser(members.map((m) => ({ id: m.user_id, username: m.display_name, avatarUrl: "" })));
  return store;
}

/** Whether a thread has a comment that mentions `userId` (the server stores each comment's
 * mentions in its metadata). */
export function mentions(thread: ThreadData, userId: string): boolean {
  return thread.comments.some((c) => {
    const meta = c.metadata as { mentions?: string[] } | undefined;
    return meta?.mentions?.includes(userId) ?? false;
  });
}
