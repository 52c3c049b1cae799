// Rooms have their stable URLs now; the room itself comes with its own issue.
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { usePageTitle } from "../app/usePageTitle";
import { ErrorNotice, Loading, NotFound } from "../ui/Status";
import { projectPath } from "./paths";
import { useItemAndProject } from "./useItem";

export function ItemPlaceholder({ kind }: { kind: "room" }) {
  const { projectId = "", itemId = "" } = useParams();
  const { t } = useTranslation();
  const { item, project } = useItemAndProject(projectId, itemId);
  usePageTitle(item.data?.title);
  if (item.isPending || project.isPending) return <Loading />;
  if (item.isError) return <ErrorNotice error={item.error} />;
  if (project.isError) return <ErrorNotice error={project.error} />;
  if (item.data.kind !== kind || item.data.project_id !== projectId) return <NotFound />;
  return (
    <div className="page">
      <p>
        <Link to={projectPath(projectId)}>
          {t("doc.backToProject", { project: project.data.title })}
        </Link>
      </p>
      <h1>{item.data.title}</h1>
      <p className="notice">{t("room.soon")}</p>
    </div>
  );
}
