// @mentions in comments: a `mention` inline content in the comment editor's schema (the server
// reads `{"type":"mention","props":{"user":id}}` from a comment's body and keeps the project's
// members among them), and an "@" menu of the project's members in every comment editor.
//
// BlockNote's comment editor (`Comments.Editor` of its Mantine components) renders no
// suggestion menu, so the page provides its own: the same editor with an "@" menu, given to
// BlockNote's comment components through its components context (with toolbar buttons that
// have accessible names).
import {
  BlockNoteSchema,
  createParagraphBlockSpec,
  defaultInlineContentSpecs,
  defaultStyleSpecs,
} from "@blocknote/core";
import { filterSuggestionItems } from "@blocknote/core/extensions";
import { BlockNoteView, components as mantineComponents } from "@blocknote/mantine";
import {
  type ComponentProps,
  type Components,
  ComponentsContext,
  createReactInlineContentSpec,
  FormattingToolbar,
  FormattingToolbarController,
  getFormattingToolbarItems,
  SuggestionMenuController,
  useBlockNoteContext,
  useBlockNoteEditor,
} from "@blocknote/react";
import {
  createContext,
  type ForwardRefExoticComponent,
  forwardRef,
  type ReactNode,
  type RefAttributes,
  useContext,
  useMemo,
} from "react";
import type { Schemas } from "../api/client";

/** A mention of a project member: their id (what the server reads) and their name as it was
 * when mentioned (what everyone reads). */
export const Mention = createReactInlineContentSpec(
  {
    type: "mention",
    propSchema: { user: { default: "" }, name: { default: "" } },
    content: "none",
  },
  {
    render: ({ inlineContent }) => (
      <span className="mention" data-user={inlineContent.props.user}>
        @{inlineContent.props.name}
      </span>
    ),
  },
);

// BlockNote's default comment schema (paragraphs, no colours) with mentions.
const { textColor: _t, backgroundColor: _b, ...commentStyles } = defaultStyleSpecs;

/** The schema of every comment editor (new comments, replies, edits, and reading). */
export const commentSchema = BlockNoteSchema.create({
  blockSpecs: { paragraph: createParagraphBlockSpec() },
  inlineContentSpecs: { ...defaultInlineContentSpecs, mention: Mention },
  styleSpecs: commentStyles,
});

const MembersContext = createContext<Schemas["MemberView"][]>([]);

/** The "@" menu: the project's members whose name matches what follows the "@". */
function MentionMenu() {
  const editor = useBlockNoteEditor();
  const members = useContext(MembersContext);
  return (
    <SuggestionMenuController
      triggerCharacter="@"
      getItems={async (query) =>
        filterSuggestionItems(
          members.map((m) => ({
            title: m.display_name,
            onItemClick: () =>
              editor.insertInlineContent([
                { type: "mention", props: { user: m.user_id, name: m.display_name } },
                " ",
              ] as never),
          })),
          query,
        )
      }
    />
  );
}

const CommentToolbar = () => (
  <FormattingToolbar blockTypeSelectItems={[]}>
    {getFormattingToolbarItems([]).filter(
      (el) => el.key !== "nestBlockButton" && el.key !== "unnestBlockButton",
    )}
  </FormattingToolbar>
);

/** Mantine's comment editor (`@blocknote/mantine` `comments/Editor.tsx`) with the "@" menu. */
const CommentEditor = forwardRef<HTMLDivElement, ComponentProps["Comments"]["Editor"]>(
  ({ className, autoFocus, onFocus, onBlur, editor, editable }, ref) => {
    const context = useBlockNoteContext();
    return (
      <BlockNoteView
        autoFocus={autoFocus}
        className={className}
        editor={editor}
        sideMenu={false}
        slashMenu={false}
        tableHandles={false}
        filePanel={false}
        formattingToolbar={false}
        editable={editable}
        theme={context?.colorSchemePreference}
        ref={ref}
        onFocus={onFocus}
        onBlur={onBlur}
      >
        <FormattingToolbarController formattingToolbar={CommentToolbar} />
        {editable && <MentionMenu />}
      </BlockNoteView>
    );
  },
);

/** Mantine's toolbar button, named for assistive technology by its tooltip when it shows only
 * an icon: BlockNote's comment actions (react, resolve, more) otherwise have no accessible
 * name, so a screen reader says "button" and nothing else. */
const NamedToolbarButton = forwardRef<
  HTMLButtonElement,
  ComponentProps["Generic"]["Toolbar"]["Button"]
>((props, ref) => {
  // Mantine's button forwards its ref (menus anchor to it); BlockNote's type omits that.
  const Button = mantineComponents.Generic.Toolbar.Button as unknown as ForwardRefExoticComponent<
    ComponentProps["Generic"]["Toolbar"]["Button"] & RefAttributes<HTMLButtonElement>
  >;
  const named = { ...props, label: props.label ?? props.mainTooltip } as typeof props;
  return <Button {...named} ref={ref} />;
});

/** BlockNote's components with the comment editor and named buttons above, around the comment
 * UI of a page. */
export function WithMentions(props: { members: Schemas["MemberView"][]; children: ReactNode }) {
  const components: Components = useMemo(
    () => ({
      ...mantineComponents,
      Generic: {
        ...mantineComponents.Generic,
        Toolbar: { ...mantineComponents.Generic.Toolbar, Button: NamedToolbarButton },
      },
      Comments: { ...mantineComponents.Comments, Editor: CommentEditor },
    }),
    [],
  );
  return (
    <MembersContext.Provider value={props.members}>
      <ComponentsContext.Provider value={components}>{props.children}</ComponentsContext.Provider>
    </MembersContext.Provider>
  );
}
