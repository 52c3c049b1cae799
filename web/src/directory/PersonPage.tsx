import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { api, call, type ProjectRole } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { useSignedIn } from "../auth/session";
import { GRANTABLE } from "../projects/ProjectPage";
import { SelectField } from "../ui/Field";
import { ErrorNotice, Flash, Loading, useErrorMessage } from "../ui/Status";
import { countryName, languageName } from "./codes";

export function PersonPage() {
  const { userId = "" } = useParams();
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const me = useSignedIn();
  const person = useQuery({
    queryKey: ["person", userId],
    queryFn: () => call(api.GET("/people/{id}", { params: { path: { id: userId } } })),
  });
  usePageTitle(person.data?.display_name);
  if (person.isPending) return <Loading />;
  if (person.isError) return <ErrorNotice error={person.error} />;
  const p = person.data;
  const isMe = p.id === me.id;
  const lists: [string, string[]][] = [
    [t("people.skills"), p.skills],
    [t("people.disciplines"), p.disciplines],
    [t("people.languages"), p.languages.map((l) => languageName(l, lang))],
    [t("people.openTo"), p.open_to.map((o) => t(`openTo.${o}`))],
  ];
  return (
    <div className="page narrow">
      <h1>{p.display_name}</h1>
      <p className="meta">
        {[p.city, p.country && countryName(p.country, lang)].filter(Boolean).join(", ")}
      </p>
      {p.bio && (
        <section aria-labelledby="bio">
          <h2 id="bio">{t("people.bio")}</h2>
          <p className="bio">{p.bio}</p>
        </section>
      )}
      <dl className="facts">
        {lists
          .filter(([, values]) => values.length > 0)
          .map(([label, values]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{values.join(", ")}</dd>
            </div>
          ))}
        {p.hubs.length > 0 && (
          <div>
            <dt>{t("people.hubs")}</dt>
            <dd>
              {p.hubs.map((h, idx) => (
                <span key={h.id}>
                  {idx > 0 && ", "}
                  <Link to={`/hubs/${encodeURIComponent(h.id)}`}>{h.name}</Link>
                </span>
              ))}
            </dd>
          </div>
        )}
        {p.email && (
          <div>
            <dt>{t("people.email")}</dt>
            <dd>
              <a href={`mailto:${p.email}`}>{p.email}</a>
            </dd>
          </div>
        )}
      </dl>
      {!isMe && <InviteToProject personId={p.id} name={p.display_name} />}
    </div>
  );
}

/** "Invite to a project": one of the caller's projects where they may invite, and a role. The
 * person's address stays hidden: the server invites them by id. */
function InviteToProject({ personId, name }: { personId: string; name: string }) {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const projects = useQuery({ queryKey: ["projects"], queryFn: () => call(api.GET("/projects")) });
  const mine = (projects.data ?? []).filter((p) => p.my_role === "owner" || p.my_role === "editor");
  const [projectId, setProjectId] = useState("");
  const [role, setRole] = useState<ProjectRole>("editor");
  const [sent, setSent] = useState<string | null>(null);
  const invite = useMutation({
    mutationFn: () =>
      call(
        api.POST("/projects/{id}/members", {
          params: { path: { id: projectId || (mine[0]?.id ?? "") } },
          body: { user_id: personId, role },
        }),
      ),
    onSuccess: () => {
      const project = mine.find((p) => p.id === (projectId || mine[0]?.id));
      setSent(t("people.invited", { name, project: project?.title ?? "" }));
    },
  });
  if (mine.length === 0) return null;
  return (
    <section aria-labelledby="invite-person" className="panel">
      <h2 id="invite-person">{t("people.inviteToProject")}</h2>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          setSent(null);
          invite.mutate();
        }}
      >
        <Flash
          message={invite.error ? message(invite.error) : sent}
          tone={invite.error ? "error" : "ok"}
        />
        <SelectField
          label={t("people.project")}
          value={projectId || (mine[0]?.id ?? "")}
          onChange={setProjectId}
          options={mine.map((p) => ({ value: p.id, label: p.title }))}
        />
        <SelectField
          label={t("project.role")}
          value={role}
          onChange={(v) => setRole(v as ProjectRole)}
          options={GRANTABLE.map((r) => ({ value: r, label: t(`role.${r}`) }))}
        />
        <button type="submit" className="primary" disabled={invite.isPending}>
          {t("people.invite")}
        </button>
      </form>
    </section>
  );
}
