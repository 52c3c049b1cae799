// The frame of an item's own page (document, board, room): its item and project loaded, the
// right kind at the right address (404 otherwise), the page title, and the way back.
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import type { ItemKind, ItemView, ProjectRole, Schemas } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { ErrorNotice, Loading, NotFound } from "../ui/Status";
import { projectPath } from "./paths";
import { useItemAndProject } from "./useItem";

export interface ItemContext {
  projectId: string;
  item: ItemView;
  /** Owners and editors change the item's content, and both people of a private (coaching)
   * item, whatever their role. */
  editable: boolean;
  /** The caller's role in the project (what they may do with comments and versions). */
  role: ProjectRole;
  members: Schemas["MemberView"][];
}

export function ItemPage(props: {
  kind: ItemKind;
  className: string;
  children: (context: ItemContext) => ReactNode;
}) {
  const { projectId = "", itemId = "" } = useParams();
  const { t } = useTranslation();
  const { item, project } = useItemAndProject(projectId, itemId);
  usePageTitle(item.data?.title);
  if (item.isPending || project.isPending) return <Loading />;
  if (item.isError) return <ErrorNotice error={item.error} />;
  if (project.isError) return <ErrorNotice error={project.error} />;
  if (item.data.kind !== props.kind || item.data.project_id !== projectId) return <NotFound />;
  const role = project.data.my_role;
  return (
    <div className={`page ${props.className}`}>
      <p className="crumbs">
        <Link to={projectPath(projectId)}>
          {t("doc.backToProject", { project: project.data.title })}
        </Link>
      </p>
      {props.children({
        projectId,
        item: item.data,
        editable: role === "owner" || role === "editor" || !!item.data.audience,
        role,
        members: project.data.members,
      })}
    </div>
  );
}
