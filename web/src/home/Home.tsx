// Home: invitations waiting for me, my projects, my hubs, and the documents I opened last.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { api, call } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { useSignedIn } from "../auth/session";
import { HubList } from "../hubs/HubsPage";
import { timeAgo } from "../i18n";
import { itemPath, projectPath } from "../projects/paths";
import { Upcoming } from "../sessions/Upcoming";
import { ErrorNotice, Flash, Loading, useErrorMessage } from "../ui/Status";

export function Home() {
  const { t } = useTranslation();
  const me = useSignedIn();
  usePageTitle(t("home.title"));
  const projects = useQuery({ queryKey: ["projects"], queryFn: () => call(api.GET("/projects")) });
  const hubs = useQuery({ queryKey: ["my-hubs"], queryFn: () => call(api.GET("/me/hubs")) });
  const recent = useQuery({ queryKey: ["recent"], queryFn: () => call(api.GET("/me/recent")) });

  return (
    <div className="page home">
      <h1>{t("home.welcome", { name: me.display_name })}</h1>
      <Invitations />
      <div className="columns">
        <Upcoming />
        <section aria-labelledby="home-projects" className="panel">
          <div className="panel-head">
            <h2 id="home-projects">{t("home.projects")}</h2>
            <Link className="button primary" to="/projects/new">
              {t("home.newProject")}
            </Link>
          </div>
          {projects.isPending ? (
            <Loading />
          ) : projects.isError ? (
            <ErrorNotice error={projects.error} onRetry={() => projects.refetch()} />
          ) : projects.data.length === 0 ? (
            <p className="empty">{t("home.noProjects")}</p>
          ) : (
            <ul className="cards">
              {projects.data.map((p) => (
                <li key={p.id}>
                  <Link to={projectPath(p.id)}>{p.title}</Link>
                  <span className="meta">
                    {t(`role.${p.my_role}`)}
                    {p.archived && ` · ${t("home.archived")}`} · {timeAgo(p.updated_at)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="home-recent" className="panel">
          <h2 id="home-recent">{t("home.recent")}</h2>
          {recent.isPending ? (
            <Loading />
          ) : recent.isError ? (
            <ErrorNotice error={recent.error} />
          ) : recent.data.length === 0 ? (
            <p className="empty">{t("home.noRecent")}</p>
          ) : (
            <ul className="cards">
              {recent.data.map(({ item, project_title }) => (
                <li key={item.id}>
                  <Link to={itemPath(item.project_id, item.kind, item.id)}>{item.title}</Link>
                  <span className="meta">
                    {t(`kind.${item.kind}`)} · {t("home.inProject", { project: project_title })}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="home-hubs" className="panel">
          <div className="panel-head">
            <h2 id="home-hubs">{t("home.hubs")}</h2>
            <Link to="/hubs">{t("home.findHubs")}</Link>
          </div>
          {hubs.isPending ? (
            <Loading />
          ) : hubs.isError ? (
            <ErrorNotice error={hubs.error} />
          ) : hubs.data.length === 0 ? (
            <p className="empty">{t("home.noHubs")}</p>
          ) : (
            <HubList hubs={hubs.data} />
          )}
        </section>
      </div>
    </div>
  );
}

/// Invitations by email waiting for me: nobody joins a project without saying yes here.
function Invitations() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const client = useQueryClient();
  const navigate = useNavigate();
  const invites = useQuery({
    queryKey: ["my-invites"],
    queryFn: () => call(api.GET("/me/invites")),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["my-invites"] });
  const accept = useMutation({
    mutationFn: (id: string) =>
      call(api.POST("/me/invites/{id}/accept", { params: { path: { id } } })),
    onSuccess: async (joined) => {
      await Promise.all([refresh(), client.invalidateQueries({ queryKey: ["projects"] })]);
      navigate(projectPath(joined.project_id));
    },
  });
  const decline = useMutation({
    mutationFn: (id: string) => call(api.DELETE("/me/invites/{id}", { params: { path: { id } } })),
    onSettled: refresh,
  });
  if (!invites.data || invites.data.length === 0) return null;
  const busy = accept.isPending || decline.isPending;
  const error = accept.error ?? decline.error;
  return (
    <section aria-labelledby="home-invites" className="panel invitations">
      <h2 id="home-invites">{t("home.invitations")}</h2>
      <Flash message={error ? message(error) : null} tone="error" />
      <ul className="cards">
        {invites.data.map((i) => (
          <li key={i.id}>
            <span>
              {t("home.invitedTo", {
                name: i.invited_by,
                project: i.project_title,
                role: t(`role.${i.role}`),
              })}
            </span>
            <span className="meta">{timeAgo(i.created_at)}</span>
            <span className="actions">
              <button
                type="button"
                className="button primary"
                disabled={busy}
                onClick={() => accept.mutate(i.id)}
              >
                {t("home.accept")}
              </button>
              <button
                type="button"
                className="button"
                disabled={busy}
                onClick={() => decline.mutate(i.id)}
              >
                {t("home.decline")}
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
