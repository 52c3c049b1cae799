// A hub: what it is, its members (and, for its managers, requests to join), and the partner
// projects the visitor may see. Also the form that creates one.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { api, call } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { useSignedIn } from "../auth/session";
import { countryName, toCountryCode } from "../directory/codes";
import { Suggestions } from "../directory/Suggestions";
import { projectPath } from "../projects/paths";
import { fieldErrors, SelectField, splitList, TextArea, TextField } from "../ui/Field";
import { ErrorNotice, Flash, Loading, useErrorMessage } from "../ui/Status";

export function HubPage() {
  const { hubId = "" } = useParams();
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const me = useSignedIn();
  const client = useQueryClient();
  const message = useErrorMessage();
  const hub = useQuery({
    queryKey: ["hub", hubId],
    queryFn: () => call(api.GET("/hubs/{id}", { params: { path: { id: hubId } } })),
  });
  usePageTitle(hub.data?.name);
  const refresh = async () => {
    await client.invalidateQueries({ queryKey: ["hub", hubId] });
    await client.invalidateQueries({ queryKey: ["my-hubs"] });
  };
  const join = useMutation({
    mutationFn: () => call(api.POST("/hubs/{id}/join", { params: { path: { id: hubId } } })),
    onSuccess: refresh,
  });
  const approve = useMutation({
    mutationFn: (userId: string) =>
      call(
        api.PATCH("/hubs/{id}/members/{user_id}", {
          params: { path: { id: hubId, user_id: userId } },
          body: { role: "member" },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (userId: string) =>
      call(
        api.DELETE("/hubs/{id}/members/{user_id}", {
          params: { path: { id: hubId, user_id: userId } },
        }),
      ),
    onSuccess: refresh,
  });
  if (hub.isPending) return <Loading />;
  if (hub.isError) return <ErrorNotice error={hub.error} />;
  const h = hub.data;
  const manager = h.my_role === "manager";
  const members = h.members.filter((m) => m.role !== "requested");
  const requests = h.members.filter((m) => m.role === "requested");
  const error = join.error ?? approve.error ?? remove.error;
  return (
    <div className="page hub">
      <header className="page-head">
        <h1>{h.name}</h1>
        <p className="meta">
          {h.city}, {countryName(h.country, lang)} · {h.time_zone}
          {h.website && (
            <>
              {" · "}
              <a href={h.website} rel="noopener noreferrer" target="_blank">
                {h.website}
              </a>
            </>
          )}
        </p>
        {h.description && <p className="lead">{h.description}</p>}
        <Flash message={error ? message(error) : null} tone="error" />
        {!h.my_role && (
          <button
            type="button"
            className="primary"
            onClick={() => join.mutate()}
            disabled={join.isPending}
          >
            {t("hub.join")}
          </button>
        )}
        {h.my_role === "requested" && <p className="notice">{t("hub.requested")}</p>}
        {h.my_role === "member" && (
          <button type="button" className="danger" onClick={() => remove.mutate(me.id)}>
            {t("hub.leave")}
          </button>
        )}
      </header>
      <dl className="facts">
        {h.disciplines.length > 0 && (
          <div>
            <dt>{t("hub.disciplines")}</dt>
            <dd>{h.disciplines.join(", ")}</dd>
          </div>
        )}
        {h.facilities.length > 0 && (
          <div>
            <dt>{t("hub.facilities")}</dt>
            <dd>{h.facilities.join(", ")}</dd>
          </div>
        )}
      </dl>
      <div className="columns">
        <section aria-labelledby="hub-members" className="panel">
          <h2 id="hub-members">{t("hub.members")}</h2>
          <ul className="members">
            {members.map((m) => (
              <li key={m.user_id}>
                <Link to={`/people/${encodeURIComponent(m.user_id)}`}>{m.display_name}</Link>
                <span className="meta">{t(`hub.role.${m.role}`)}</span>
              </li>
            ))}
          </ul>
        </section>
        {manager && requests.length > 0 && (
          <section aria-labelledby="hub-requests" className="panel">
            <h2 id="hub-requests">{t("hub.requests")}</h2>
            <ul className="members">
              {requests.map((m) => (
                <li key={m.user_id}>
                  <Link to={`/people/${encodeURIComponent(m.user_id)}`}>{m.display_name}</Link>
                  <button type="button" onClick={() => approve.mutate(m.user_id)}>
                    {t("hub.approve")}
                  </button>
                  <button
                    type="button"
                    className="link-button danger"
                    onClick={() => remove.mutate(m.user_id)}
                  >
                    {t("hub.decline")}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
        <section aria-labelledby="hub-projects" className="panel">
          <h2 id="hub-projects">{t("hub.projects")}</h2>
          {h.projects.length === 0 ? (
            <p className="empty">{t("hub.noProjects")}</p>
          ) : (
            <ul className="cards">
              {h.projects.map((p) => (
                <li key={p.id}>
                  <Link to={projectPath(p.id)}>{p.title}</Link>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}

/** The IANA time zones this browser knows, with `current` and UTC among them. */
function timeZones(current: string): string[] {
  const known =
    typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set([...known, "UTC", current])].sort();
}

export function NewHubPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  usePageTitle(t("hub.new"));
  const navigate = useNavigate();
  const client = useQueryClient();
  const message = useErrorMessage();
  const [error, setError] = useState<unknown>(null);
  // The hub's zone, from the IANA list; the browser's own zone to begin with.
  const [zone, setZone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "");
    try {
      const created = await call(
        api.POST("/hubs", {
          body: {
            name: text("name"),
            city: text("city"),
            country: text("country").trim() ? toCountryCode(text("country"), lang) : "",
            time_zone: text("time_zone"),
            description: text("description"),
            disciplines: splitList(text("disciplines")),
            facilities: splitList(text("facilities")),
            website: text("website"),
          },
        }),
      );
      await client.invalidateQueries({ queryKey: ["hubs"] });
      await client.invalidateQueries({ queryKey: ["my-hubs"] });
      navigate(`/hubs/${encodeURIComponent(created.id)}`);
    } catch (err) {
      setError(err);
    }
  };
  const fields = fieldErrors(error);
  const comma = t("app.commaSeparated");
  return (
    <div className="page narrow">
      <h1>{t("hub.new")}</h1>
      <form className="panel" onSubmit={submit} noValidate>
        <Flash message={error ? message(error) : null} tone="error" />
        <TextField label={t("hub.name")} name="name" required error={fields.name} />
        <div className="row">
          <TextField label={t("hub.city")} name="city" required error={fields.city} />
          <TextField
            label={t("hub.country")}
            name="country"
            required
            list="hub-country-names"
            autoComplete="off"
            error={fields.country}
          />
          <Suggestions id="hub-country-names" kind="region" />
        </div>
        <SelectField
          label={t("hub.timeZone")}
          name="time_zone"
          value={zone}
          onChange={setZone}
          options={timeZones(zone).map((z) => ({ value: z, label: z.replaceAll("_", " ") }))}
          error={fields.time_zone}
        />
        <TextArea
          label={t("hub.description")}
          name="description"
          rows={4}
          error={fields.description}
        />
        <TextField
          label={t("hub.disciplines")}
          name="disciplines"
          hint={comma}
          error={fields.disciplines}
        />
        <TextField
          label={t("hub.facilities")}
          name="facilities"
          hint={comma}
          error={fields.facilities}
        />
        <TextField
          label={`${t("hub.website")} ${t("app.optional")}`}
          name="website"
          type="url"
          error={fields.website}
        />
        <button type="submit" className="primary">
          {t("app.create")}
        </button>
      </form>
    </div>
  );
}
