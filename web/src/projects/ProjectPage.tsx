// A project: its documents, boards and rooms; its members and their roles; invitations by
// email and by link; partner hubs; and, for its owner, its settings.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import {
  api,
  call,
  type ItemKind,
  importDocument,
  type ProjectRole,
  type Schemas,
  type Visibility,
} from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { useSignedIn, useUploadLimit } from "../auth/session";
import { currentLanguage, timeAgo } from "../i18n";
import { ProjectSessions } from "../sessions/ProjectSessions";
import { fieldErrors, SelectField, TextArea, TextField } from "../ui/Field";
import { ErrorNotice, Flash, Loading, useErrorMessage } from "../ui/Status";
import { VISIBILITIES } from "./NewProjectPage";
import { itemPath } from "./paths";

/** What the "Add" form makes: an item, or a coaching room with its notes (two private items). */
type NewKind = ItemKind | "coaching";
const KINDS: NewKind[] = ["document", "board", "room", "coaching"];
/** The roles an invitation or a member may be given (the owner is one, by transfer). */
export const GRANTABLE: ProjectRole[] = ["editor", "commenter", "viewer"];

/** What a role may do here; the server decides, this only hides what would be refused. */
export function abilities(role: ProjectRole) {
  const owner = role === "owner";
  const editor = owner || role === "editor";
  return { manageItems: editor, invite: editor, manageMembers: owner, editProject: owner };
}

export function ProjectPage() {
  const { projectId = "" } = useParams();
  const { t } = useTranslation();
  const me = useSignedIn();
  const project = useQuery({
    queryKey: ["project", projectId],
    queryFn: () => call(api.GET("/projects/{id}", { params: { path: { id: projectId } } })),
  });
  usePageTitle(project.data?.title);
  if (project.isPending) return <Loading />;
  if (project.isError)
    return <ErrorNotice error={project.error} onRetry={() => project.refetch()} />;
  const p = project.data;
  const can = abilities(p.my_role);
  return (
    <div className="page project">
      <header className="page-head">
        <h1>{p.title}</h1>
        {p.summary && <p className="lead">{p.summary}</p>}
        <p className="meta">
          {t(`project.visibility.${p.visibility}`)} ·{" "}
          {t("project.myRole", { role: t(`role.${p.my_role}`) })}
          {p.archived && ` · ${t("home.archived")}`}
        </p>
      </header>
      <div className="columns">
        <Items project={p} canManage={can.manageItems} />
        <ProjectSessions
          projectId={p.id}
          canSchedule={can.manageItems}
          members={p.members.filter((m) => m.user_id !== me.id)}
        />
        {can.manageItems && <Trash projectId={p.id} isOwner={p.my_role === "owner"} />}
        <Members project={p} canManage={can.manageMembers} />
        {can.invite && <Invites projectId={p.id} />}
        <PartnerHubs project={p} canEdit={can.editProject} />
        {can.editProject && <ProjectSettings project={p} />}
      </div>
    </div>
  );
}

/** The project's trash: deleted items, restorable for 30 days; the owner may purge sooner. */
function Trash({ projectId, isOwner }: { projectId: string; isOwner: boolean }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const message = useErrorMessage();
  const trash = useQuery({
    queryKey: ["trash", projectId],
    queryFn: () => call(api.GET("/projects/{id}/trash", { params: { path: { id: projectId } } })),
  });
  const refresh = async () => {
    await client.invalidateQueries({ queryKey: ["trash", projectId] });
    await client.invalidateQueries({ queryKey: ["items", projectId] });
  };
  const restore = useMutation({
    mutationFn: (id: string) => call(api.POST("/items/{id}/restore", { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const purge = useMutation({
    mutationFn: (id: string) => call(api.DELETE("/items/{id}/trash", { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const empty = useMutation({
    mutationFn: () =>
      call(api.DELETE("/projects/{id}/trash", { params: { path: { id: projectId } } })),
    onSuccess: refresh,
  });
  const items = trash.data ?? [];
  if (items.length === 0) return null;
  const error = restore.error ?? purge.error ?? empty.error;
  return (
    <section aria-labelledby="trash-title" className="panel trash">
      <details>
        <summary>
          <h2 id="trash-title">{t("trash.title", { count: items.length })}</h2>
        </summary>
        <p className="meta">{t("trash.kept")}</p>
        <Flash message={error ? message(error) : null} tone="error" />
        <ul className="members">
          {items.map((entry) => (
            <li key={entry.item.id}>
              <span>{entry.item.title}</span>
              <span className="meta">
                {t(`kind.${entry.item.kind}`)} ·{" "}
                {t("trash.deleted", {
                  who: entry.deleted_by?.display_name ?? "?",
                  when: timeAgo(entry.deleted_at),
                })}
              </span>
              <button
                type="button"
                className="link-button"
                onClick={() => restore.mutate(entry.item.id)}
              >
                {t("trash.restore")}
              </button>
              {isOwner && (
                <button
                  type="button"
                  className="link-button danger"
                  onClick={() => {
                    if (window.confirm(t("trash.confirmPurge", { title: entry.item.title })))
                      purge.mutate(entry.item.id);
                  }}
                >
                  {t("trash.purge")}
                </button>
              )}
            </li>
          ))}
        </ul>
        {isOwner && (
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (window.confirm(t("trash.confirmEmpty"))) empty.mutate();
            }}
          >
            {t("trash.empty")}
          </button>
        )}
      </details>
    </section>
  );
}

function Items({ project, canManage }: { project: Schemas["ProjectView"]; canManage: boolean }) {
  const { t } = useTranslation();
  const me = useSignedIn();
  const client = useQueryClient();
  const navigate = useNavigate();
  const message = useErrorMessage();
  const projectId = project.id;
  const [kind, setKind] = useState<NewKind>("document");
  const others = project.members.filter((m) => m.user_id !== me.id);
  const [coachee, setCoachee] = useState("");
  const [template, setTemplate] = useState("");
  const [dragging, setDragging] = useState(false);
  const uploadLimit = useUploadLimit();
  const templateKind = kind === "document" || kind === "board" ? kind : null;
  const templates = useQuery({
    queryKey: ["templates", templateKind, currentLanguage()],
    queryFn: () =>
      call(
        api.GET("/templates", {
          params: { query: { kind: templateKind ?? "document", lang: currentLanguage() } },
        }),
      ),
    enabled: canManage && templateKind !== null,
  });
  const importFile = useMutation({
    mutationFn: (file: File) => importDocument(projectId, file, uploadLimit),
    onSuccess: async (created) => {
      await client.invalidateQueries({ queryKey: ["items", projectId] });
      navigate(itemPath(projectId, "document", created.id));
    },
  });
  const items = useQuery({
    queryKey: ["items", projectId],
    queryFn: () => call(api.GET("/projects/{id}/items", { params: { path: { id: projectId } } })),
  });
  const create = useMutation({
    mutationFn: async (title: string): Promise<{ kind: ItemKind; id: string }> => {
      if (kind !== "coaching") {
        const chosen = templateKind ? templates.data?.find((tp) => tp.id === template) : undefined;
        const body = {
          kind,
          // A blank title takes the template's.
          title: title.trim() || chosen?.title || title,
          template_id: chosen ? chosen.id : null,
        };
        const created = await call(
          api.POST("/projects/{id}/items", { params: { path: { id: projectId } }, body }),
        );
        return { kind, id: created.id };
      }
      const other = others.find((m) => m.user_id === coachee) ?? others[0];
      const named =
        title.trim() || t("project.coachingTitle", { a: me.display_name, b: other?.display_name });
      const body = {
        with: other?.user_id ?? "",
        title: named,
        notes_title: t("project.coachingNotes", { title: named }),
      };
      const created = await call(
        api.POST("/projects/{id}/coaching", { params: { path: { id: projectId } }, body }),
      );
      return { kind: "room", id: created.room.id };
    },
    onSuccess: async (created) => {
      await client.invalidateQueries({ queryKey: ["items", projectId] });
      navigate(itemPath(projectId, created.kind, created.id));
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE("/items/{id}", { params: { path: { id } } })),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ["items", projectId] });
      await client.invalidateQueries({ queryKey: ["trash", projectId] });
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    create.mutate(String(new FormData(event.currentTarget).get("title")));
  };
  return (
    <section
      aria-labelledby="items-title"
      className={dragging ? "panel wide dropping" : "panel wide"}
      onDragOver={(e) => {
        if (!canManage || !e.dataTransfer.types.includes("Files")) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        if (!canManage) return;
        e.preventDefault();
        setDragging(false);
        const file = e.dataTransfer.files[0];
        if (file) importFile.mutate(file);
      }}
    >
      <h2 id="items-title">{t("project.items")}</h2>
      {items.isPending ? (
        <Loading />
      ) : items.isError ? (
        <ErrorNotice error={items.error} />
      ) : items.data.length === 0 ? (
        <p className="empty">{t("project.noItems")}</p>
      ) : (
        <ul className="cards items">
          {items.data.map((item) => (
            <li key={item.id}>
              {item.kind === "board" && (
                <Link to={itemPath(projectId, item.kind, item.id)} tabIndex={-1} aria-hidden="true">
                  <img
                    className="thumbnail"
                    src={`/api/v1/boards/${item.id}/thumbnail.png`}
                    alt={t("board.thumbnail", { title: item.title })}
                    loading="lazy"
                    width={240}
                    height={150}
                    data-testid="board-thumbnail"
                  />
                </Link>
              )}
              <span className={`kind kind-${item.kind}`}>{t(`kind.${item.kind}`)}</span>
              <Link to={itemPath(projectId, item.kind, item.id)}>{item.title}</Link>
              {item.audience ? (
                <span className="private" data-testid="private">
                  {t("project.privateWith", {
                    names: item.audience.map((p) => p.display_name).join(", "),
                  })}
                </span>
              ) : null}
              <span className="meta">
                {t("project.changedBy", {
                  name: item.updated_by.display_name,
                  when: timeAgo(item.updated_at),
                })}
              </span>
              {(canManage || item.audience) && (
                <button
                  type="button"
                  className="link-button danger"
                  aria-label={`${t("app.delete")}: ${item.title}`}
                  onClick={() => {
                    if (window.confirm(t("project.confirmDeleteItem", { title: item.title })))
                      remove.mutate(item.id);
                  }}
                >
                  {t("app.delete")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canManage && (
        <form className="inline-form" onSubmit={submit} noValidate>
          <Flash message={create.error ? message(create.error) : null} tone="error" />
          <TextField
            label={t("project.itemTitle")}
            name="title"
            required={kind !== "coaching"}
            error={fieldErrors(create.error).title}
          />
          <SelectField
            label={t("project.itemKind")}
            value={kind}
            onChange={(v) => setKind(v as NewKind)}
            options={KINDS.filter((k) => k !== "coaching" || others.length > 0).map((k) => ({
              value: k,
              label: t(`kind.${k}`),
            }))}
          />
          {templateKind && (templates.data?.length ?? 0) > 0 ? (
            <SelectField
              label={t("project.template")}
              value={template}
              onChange={setTemplate}
              options={[
                { value: "", label: t("project.blank") },
                ...(templates.data ?? []).map((tp) => ({
                  value: tp.id,
                  label:
                    tp.scope === "builtin"
                      ? tp.title
                      : `${tp.title} (${t(`project.scope.${tp.scope}`)})`,
                })),
              ]}
            />
          ) : null}
          {kind === "coaching" ? (
            <SelectField
              label={t("project.coachingWith")}
              value={coachee || (others[0]?.user_id ?? "")}
              onChange={setCoachee}
              options={others.map((m) => ({ value: m.user_id, label: m.display_name }))}
            />
          ) : null}
          <button type="submit" className="primary" disabled={create.isPending}>
            {t("project.newItem")}
          </button>
        </form>
      )}
      {canManage && (
        <div className="import-row">
          <label className="file-button">
            {t("project.import")}
            <input
              type="file"
              accept=".md,.markdown,.docx,text/markdown,application/vnd.openxmlformats-officedocument.wordprocessingml.document"
              data-testid="import-file"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) importFile.mutate(file);
                e.target.value = "";
              }}
            />
          </label>
          <span className="muted">{t("project.importHint")}</span>
          {importFile.isPending && <Loading />}
          <Flash message={importFile.error ? message(importFile.error) : null} tone="error" />
        </div>
      )}
    </section>
  );
}

function Members({ project, canManage }: { project: Schemas["ProjectView"]; canManage: boolean }) {
  const { t } = useTranslation();
  const me = useSignedIn();
  const client = useQueryClient();
  const navigate = useNavigate();
  const message = useErrorMessage();
  const refresh = () => client.invalidateQueries({ queryKey: ["project", project.id] });
  const setRole = useMutation({
    mutationFn: ({ userId, role }: { userId: string; role: ProjectRole }) =>
      call(
        api.PATCH("/projects/{id}/members/{user_id}", {
          params: { path: { id: project.id, user_id: userId } },
          body: { role },
        }),
      ),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (userId: string) =>
      call(
        api.DELETE("/projects/{id}/members/{user_id}", {
          params: { path: { id: project.id, user_id: userId } },
        }),
      ),
    onSuccess: async (_, userId) => {
      if (userId === me.id) {
        await client.invalidateQueries({ queryKey: ["projects"] });
        navigate("/");
      } else {
        await refresh();
      }
    },
  });
  const error = setRole.error ?? remove.error;
  return (
    <section aria-labelledby="members-title" className="panel">
      <h2 id="members-title">{t("project.members")}</h2>
      <Flash message={error ? message(error) : null} tone="error" />
      <ul className="members">
        {project.members.map((m) => (
          <li key={m.user_id}>
            <Link to={`/people/${encodeURIComponent(m.user_id)}`}>{m.display_name}</Link>
            {canManage && m.role !== "owner" ? (
              <>
                <SelectField
                  label={`${t("project.role")}: ${m.display_name}`}
                  value={m.role}
                  onChange={(role) =>
                    setRole.mutate({ userId: m.user_id, role: role as ProjectRole })
                  }
                  options={GRANTABLE.map((r) => ({ value: r, label: t(`role.${r}`) }))}
                />
                <button
                  type="button"
                  className="link-button danger"
                  onClick={() => {
                    if (window.confirm(t("project.confirmRemove", { name: m.display_name })))
                      remove.mutate(m.user_id);
                  }}
                >
                  {t("app.remove")}
                </button>
              </>
            ) : (
              <span className={`role role-${m.role}`}>{t(`role.${m.role}`)}</span>
            )}
          </li>
        ))}
      </ul>
      {project.my_role !== "owner" && (
        <button
          type="button"
          className="danger"
          onClick={() => {
            if (window.confirm(t("project.confirmLeave"))) remove.mutate(me.id);
          }}
        >
          {t("project.leave")}
        </button>
      )}
    </section>
  );
}

function Invites({ projectId }: { projectId: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const message = useErrorMessage();
  const [role, setRole] = useState<ProjectRole>("editor");
  // Both ways of inviting default to Editor: people are invited to write with the others.
  const [linkRole, setLinkRole] = useState<ProjectRole>("editor");
  const [sent, setSent] = useState<string | null>(null);
  // The invitation's own link, which only an account with the invited address can use.
  const [emailLink, setEmailLink] = useState<{ url: string; emailed: boolean } | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const invites = useQuery({
    queryKey: ["invites", projectId],
    queryFn: () => call(api.GET("/projects/{id}/invites", { params: { path: { id: projectId } } })),
  });
  const refresh = async () => {
    await client.invalidateQueries({ queryKey: ["invites", projectId] });
    await client.invalidateQueries({ queryKey: ["project", projectId] });
  };
  const byEmail = useMutation({
    mutationFn: (email: string) =>
      call(
        api.POST("/projects/{id}/members", {
          params: { path: { id: projectId } },
          body: { email, role },
        }),
      ),
    onSuccess: async (added, email) => {
      setSent(t(added.emailed ? "project.inviteEmailed" : "project.inviteSent", { email }));
      setEmailLink({
        url: `${location.origin}/invite/${encodeURIComponent(added.token)}`,
        emailed: added.emailed,
      });
      await refresh();
    },
  });
  const byLink = useMutation({
    mutationFn: (body: Schemas["InviteLinkCreate"]) =>
      call(api.POST("/projects/{id}/invites", { params: { path: { id: projectId } }, body })),
    onSuccess: async (created) => {
      setLink(`${location.origin}/invite/${encodeURIComponent(created.token)}`);
      await refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) =>
      call(
        api.DELETE("/projects/{id}/invites/{invite_id}", {
          params: { path: { id: projectId, invite_id: id } },
        }),
      ),
    onSuccess: refresh,
  });
  const roleOptions = GRANTABLE.map((r) => ({ value: r, label: t(`role.${r}`) }));
  return (
    <section aria-labelledby="invites-title" className="panel">
      <h2 id="invites-title">{t("project.invite")}</h2>
      <form
        className="inline-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          setSent(null);
          setEmailLink(null);
          byEmail.mutate(String(new FormData(event.currentTarget).get("email")));
        }}
      >
        <Flash
          message={byEmail.error ? message(byEmail.error) : sent}
          tone={byEmail.error ? "error" : "ok"}
        />
        <TextField
          label={t("auth.email")}
          name="email"
          type="email"
          required
          error={fieldErrors(byEmail.error).email}
        />
        <SelectField
          label={t("project.role")}
          value={role}
          onChange={(v) => setRole(v as ProjectRole)}
          options={roleOptions}
        />
        <button type="submit" className="primary" disabled={byEmail.isPending}>
          {t("project.invite")}
        </button>
      </form>
      {emailLink && !byEmail.error && (
        // The same link the email carries (when this server sends email): the inviter may pass
        // it on too. It works only for an account with the invited address.
        <div className="notice" role="status">
          <p>{t(emailLink.emailed ? "project.inviteAlsoPass" : "project.inviteLinkToPass")}</p>
          <CopyText text={emailLink.url} />
        </div>
      )}
      <h3>{t("project.inviteLinks")}</h3>
      <form
        className="inline-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const uses = Number(form.get("uses"));
          const hours = Number(form.get("hours"));
          byLink.mutate({
            role: linkRole,
            max_uses: uses > 0 ? uses : null,
            expires_in_hours: hours > 0 ? hours : null,
          });
        }}
      >
        <Flash message={byLink.error ? message(byLink.error) : null} tone="error" />
        <SelectField
          label={t("project.role")}
          value={linkRole}
          onChange={(v) => setLinkRole(v as ProjectRole)}
          options={roleOptions}
        />
        <TextField
          label={`${t("project.linkUses")} ${t("app.optional")}`}
          name="uses"
          type="number"
          min={1}
        />
        <TextField
          label={`${t("project.linkHours")} ${t("app.optional")}`}
          name="hours"
          type="number"
          min={1}
          defaultValue={168}
        />
        <button type="submit" disabled={byLink.isPending}>
          {t("project.createLink")}
        </button>
      </form>
      {link && (
        <div className="notice notice-ok" role="status">
          <p>{t("project.linkCreated")}</p>
          <CopyText text={link} />
        </div>
      )}
      {invites.data && invites.data.length > 0 && (
        <>
          <h3>{t("project.pending")}</h3>
          <ul className="members">
            {invites.data.map((invite) => (
              <li key={invite.id}>
                <span>{invite.email ?? t("project.inviteLinks")}</span>
                <span className="meta">
                  {t(`role.${invite.role}`)} ·{" "}
                  {invite.max_uses
                    ? t("project.uses", { uses: invite.uses, max: invite.max_uses })
                    : t("project.usesUnlimited", { uses: invite.uses })}
                </span>
                <button
                  type="button"
                  className="link-button danger"
                  onClick={() => revoke.mutate(invite.id)}
                >
                  {t("project.revoke")}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

export function CopyText({ text }: { text: string }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy">
      <code>{text}</code>
      <button
        type="button"
        onClick={async () => {
          await navigator.clipboard?.writeText(text);
          setCopied(true);
        }}
      >
        {copied ? t("app.copied") : t("app.copy")}
      </button>
    </div>
  );
}

function PartnerHubs({ project, canEdit }: { project: Schemas["ProjectView"]; canEdit: boolean }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const message = useErrorMessage();
  const hubs = useQuery({ queryKey: ["hubs"], queryFn: () => call(api.GET("/hubs")) });
  const [adding, setAdding] = useState("");
  const setHubs = useMutation({
    mutationFn: (hub_ids: string[]) =>
      call(
        api.PATCH("/projects/{id}", { params: { path: { id: project.id } }, body: { hub_ids } }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: ["project", project.id] }),
  });
  const byId = new Map((hubs.data ?? []).map((h) => [h.id, h]));
  const others = (hubs.data ?? []).filter((h) => !project.hub_ids.includes(h.id));
  return (
    <section aria-labelledby="hubs-title" className="panel">
      <h2 id="hubs-title">{t("project.partnerHubs")}</h2>
      <Flash message={setHubs.error ? message(setHubs.error) : null} tone="error" />
      {project.hub_ids.length === 0 ? (
        <p className="empty">{t("project.noHubs")}</p>
      ) : (
        <ul className="members">
          {project.hub_ids.map((id) => (
            <li key={id}>
              <Link to={`/hubs/${encodeURIComponent(id)}`}>{byId.get(id)?.name ?? id}</Link>
              {byId.get(id) && <span className="meta">{byId.get(id)?.city}</span>}
              {canEdit && (
                <button
                  type="button"
                  className="link-button danger"
                  onClick={() => setHubs.mutate(project.hub_ids.filter((h) => h !== id))}
                >
                  {t("app.remove")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canEdit && others.length > 0 && (
        <form
          className="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            const pick = adding || others[0]?.id;
            if (pick) setHubs.mutate([...project.hub_ids, pick]);
          }}
        >
          <SelectField
            label={t("project.addHub")}
            value={adding || (others[0]?.id ?? "")}
            onChange={setAdding}
            options={others.map((h) => ({ value: h.id, label: `${h.name} (${h.city})` }))}
          />
          <button type="submit">{t("project.addHub")}</button>
        </form>
      )}
    </section>
  );
}

function ProjectSettings({ project }: { project: Schemas["ProjectView"] }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const message = useErrorMessage();
  const [visibility, setVisibility] = useState<Visibility>(project.visibility);
  const [saved, setSaved] = useState(false);
  const update = useMutation({
    mutationFn: (body: Schemas["ProjectUpdate"]) =>
      call(api.PATCH("/projects/{id}", { params: { path: { id: project.id } }, body })),
    onSuccess: async () => {
      setSaved(true);
      await client.invalidateQueries({ queryKey: ["project", project.id] });
      await client.invalidateQueries({ queryKey: ["projects"] });
    },
  });
  return (
    <section aria-labelledby="settings-title" className="panel">
      <h2 id="settings-title">{t("project.settings")}</h2>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          setSaved(false);
          const form = new FormData(event.currentTarget);
          update.mutate({
            title: String(form.get("title")),
            summary: String(form.get("summary")),
            visibility,
          });
        }}
      >
        <Flash
          message={update.error ? message(update.error) : saved ? t("app.saved") : null}
          tone={update.error ? "error" : "ok"}
        />
        <TextField
          label={t("project.title")}
          name="title"
          defaultValue={project.title}
          error={fieldErrors(update.error).title}
        />
        <TextArea
          label={t("project.summary")}
          name="summary"
          rows={3}
          defaultValue={project.summary}
        />
        <SelectField
          label={t("project.visibility")}
          value={visibility}
          onChange={(v) => setVisibility(v as Visibility)}
          options={VISIBILITIES.map((v) => ({ value: v, label: t(`project.visibility.${v}`) }))}
        />
        <div className="actions">
          <button type="submit" className="primary" disabled={update.isPending}>
            {t("app.save")}
          </button>
          <button type="button" onClick={() => update.mutate({ archived: !project.archived })}>
            {project.archived ? t("project.unarchive") : t("project.archive")}
          </button>
        </div>
      </form>
    </section>
  );
}
