// A live document: BlockNote bound to the Yjs document through the official y-websocket
// provider, with who is here, the connection, and whether the server has saved every edit.
import "@blocknote/mantine/style.css";
import type { BlockNoteEditor } from "@blocknote/core";
import { CommentsExtension } from "@blocknote/core/comments";
import { filterSuggestionItems } from "@blocknote/core/extensions";
import { en as bnEn, es as bnEs, fr as bnFr, pt as bnPt } from "@blocknote/core/locales";
import { withCollaboration } from "@blocknote/core/yjs";
import { BlockNoteView } from "@blocknote/mantine";
import {
  FloatingComposerController,
  FloatingThreadController,
  getDefaultReactSlashMenuItems,
  SuggestionMenuController,
  useCreateBlockNote,
} from "@blocknote/react";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { type ProjectRole, type Schemas, uploadAsset } from "../api/client";
import { useSignedIn, useUploadLimit } from "../auth/session";
import { currentLanguage } from "../i18n";
import { ExportMenu } from "../projects/ExportMenu";
import { ItemPage } from "../projects/ItemPage";
import { ItemTitle } from "../projects/ItemTitle";
import { Loading, useErrorMessage } from "../ui/Status";
import { europeanPortuguese } from "./blocknotePt";
import { colorFor } from "./colors";
import { membersStore, threadStore } from "./comments";
import { renderCursor } from "./cursor";
import { DocPanels } from "./DocPanels";
import { commentSchema, WithMentions } from "./mentions";
import type { DocSession } from "./provider";
import { ConnectionBadge, Presence, SaveBadge } from "./SessionBadges";
import { useDocSession } from "./useDocSession";

/** BlockNote's own strings (menus, placeholders) in each interface language. */
/** Slash-menu entries for blocks the server does not take, by their title in `strings`: video
 * and audio (images and documents, the annexes proposals carry, are uploaded). */
function unsupported(strings: (typeof EDITOR_STRINGS)[keyof typeof EDITOR_STRINGS]): Set<string> {
  return new Set([strings.slash_menu.video.title, strings.slash_menu.audio.title]);
}

const EDITOR_STRINGS = { en: bnEn, fr: bnFr, es: bnEs, pt: europeanPortuguese(bnPt) };

/** The XML fragment BlockNote's document lives in (design §6). */
export const FRAGMENT = "document-store";

interface CommentsOptions {
  role: ProjectRole;
  members: Schemas["MemberView"][];
}

export default function DocumentPage() {
  return (
    <ItemPage kind="document" className="document">
      {({ projectId, item, editable, role, members }) => (
        <LiveDocument
          key={item.doc_id}
          docId={item.doc_id}
          itemId={item.id}
          projectId={projectId}
          title={item.title}
          editable={editable}
          comments={{ role, members }}
        />
      )}
    </ItemPage>
  );
}

/** A live document's editor with its badges; `embedded` when it sits in another page's panel
 * (a room's notes), under that page's own heading. */
export function LiveDocument(props: {
  docId: string;
  /** Set where the page may rename the document (its own page, not a room's panel). */
  itemId?: string;
  projectId: string;
  title: string;
  editable: boolean;
  embedded?: boolean;
  /** On the document's own page: threads, and the side panel of comments and history. */
  comments?: CommentsOptions;
}) {
  const session = useDocSession(props.docId);
  if (!session) return <Loading />;
  return <SessionView session={session} {...props} />;
}

function SessionView({
  session,
  itemId,
  projectId,
  title,
  editable,
  embedded,
  comments,
}: {
  session: DocSession;
  itemId?: string;
  projectId: string;
  title: string;
  editable: boolean;
  embedded?: boolean;
  comments?: CommentsOptions;
}) {
  const { t, i18n } = useTranslation();
  const me = useSignedIn();
  const color = colorFor(me.id);
  const message = useErrorMessage();
  const limit = useUploadLimit();
  // Read when a file comes, not when the editor was made.
  const current = useRef({ limit, message });
  current.current = { limit, message };
  const [problem, setProblem] = useState<string | null>(null);
  const editorRef = useRef<BlockNoteEditor | null>(null);
  useEffect(() => {
    session.provider.awareness.setLocalStateField("account", { id: me.id });
  }, [session, me.id]);
  const commenting = comments && itemId ? { ...comments, itemId } : undefined;
  const editor = useCreateBlockNote(
    withCollaboration({
      extensions: commenting
        ? [
            CommentsExtension({
              schema: commentSchema,
              threadStore: threadStore(
                commenting.itemId,
                session.doc.getMap("threads"),
                me.id,
                commenting.role,
              ),
              resolveUsers: membersStore(commenting.members, t("comments.formerMember")),
            }),
          ]
        : [],
      dictionary: EDITOR_STRINGS[currentLanguage()],
      // The editable element is a textbox: it needs its own accessible name.
      domAttributes: { editor: { "aria-label": t("doc.editor") } },
      uploadFile: async (file: File, blockId?: string) => {
        try {
          setProblem(null);
          return await uploadAsset(projectId, file, current.current.limit);
        } catch (err) {
          // Say why, and leave nothing behind: the block made for the file (which everyone
          // saw appear) goes once BlockNote is done with it.
          setProblem(current.current.message(err));
          if (blockId) {
            setTimeout(() => {
              const ed = editorRef.current;
              const block = ed?.getBlock(blockId);
              if (ed && block && !(block.props as { url?: string }).url) ed.removeBlocks([blockId]);
            }, 0);
          }
          return "";
        }
      },
      collaboration: {
        provider: session.provider,
        fragment: session.doc.getXmlFragment(FRAGMENT),
        user: { name: me.display_name, color },
        showCursorLabels: "always",
        renderCursor,
      },
    }),
    // The editor's own strings follow the interface language.
    [session, i18n.resolvedLanguage, commenting?.role],
  );
  editorRef.current = editor;
  return (
    <>
      <header className="doc-head">
        {embedded || !itemId ? (
          embedded ? (
            <h2>{title}</h2>
          ) : (
            <h1>{title}</h1>
          )
        ) : (
          <ItemTitle itemId={itemId} projectId={projectId} title={title} canRename={editable} />
        )}
        <div className="doc-status">
          {commenting && (
            <ExportMenu
              itemId={commenting.itemId}
              kind="document"
              title={title}
              canSaveTemplate={editable}
            />
          )}
          <Presence session={session} />
          <ConnectionBadge session={session} />
          <SaveBadge session={session} editable={editable} />
        </div>
      </header>
      {!editable && (
        <p className="notice" role="note">
          {t("doc.readOnly")}
        </p>
      )}
      {problem && (
        <div className="notice notice-error" role="alert" data-testid="upload-problem">
          <p>{problem}</p>
          <button type="button" className="link-button" onClick={() => setProblem(null)}>
            {t("app.dismiss")}
          </button>
        </div>
      )}
      <section
        className={commenting ? "editor editor-with-panel" : "editor"}
        aria-label={t("doc.editor")}
      >
        {/* BlockNote's own comment UI is replaced by the same controllers under `WithMentions`,
            whose comment editors offer the "@" menu. */}
        <BlockNoteView
          editor={editor}
          editable={editable}
          theme="light"
          slashMenu={false}
          comments={false}
        >
          <SuggestionMenuController
            triggerCharacter="/"
            getItems={async (query) => {
              const hidden = unsupported(EDITOR_STRINGS[currentLanguage()]);
              return filterSuggestionItems(
                getDefaultReactSlashMenuItems(editor).filter((item) => !hidden.has(item.title)),
                query,
              );
            }}
          />
          {commenting && (
            <WithMentions members={commenting.members}>
              <FloatingComposerController />
              <FloatingThreadController />
              <DocPanels
                itemId={commenting.itemId}
                userId={me.id}
                canRestore={commenting.role === "owner" || commenting.role === "editor"}
              />
            </WithMentions>
          )}
        </BlockNoteView>
      </section>
    </>
  );
}
