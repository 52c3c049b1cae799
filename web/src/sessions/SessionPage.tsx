// A session's page: when it is (in my zone and the organiser's), its agenda, who is coming,
// my answer, the join button (live from a few minutes before the start), its notes and its
// calendar file; the organiser reschedules or cancels it here.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { api, call, type Schemas } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { useSignedIn } from "../auth/session";
import { itemPath, projectPath } from "../projects/paths";
import { fieldErrors, TextField } from "../ui/Field";
import { ErrorNotice, Flash, Loading, useErrorMessage } from "../ui/Status";
import { sessionKey } from "./paths";
import { myZone, sameClock, timeOfDay, when } from "./time";

type Session = Schemas["SessionDetail"];
type Rsvp = Schemas["RsvpResponse"];

export default function SessionPage() {
  const { sessionId = "" } = useParams();
  const { t } = useTranslation();
  const session = useQuery({
    queryKey: sessionKey(sessionId),
    queryFn: () => call(api.GET("/sessions/{id}", { params: { path: { id: sessionId } } })),
    // Whether the room is open changes with the clock.
    refetchInterval: 15_000,
  });
  usePageTitle(session.data?.title);
  if (session.isPending) return <Loading />;
  if (session.isError)
    return <ErrorNotice error={session.error} onRetry={() => session.refetch()} />;
  const s = session.data;
  return (
    <div className="page session-page">
      <p className="crumbs">
        <Link to={projectPath(s.project_id)}>
          {t("doc.backToProject", { project: s.project_title })}
        </Link>
      </p>
      <header className="page-head">
        <h1>{s.title}</h1>
        <p className="meta">
          {t(`session.kind.${s.kind}`)} ·{" "}
          {t("session.organisedBy", { name: s.organiser.display_name })}
        </p>
        <When session={s} />
      </header>
      <div className="columns">
        <section className="panel" aria-labelledby="session-join">
          <h2 id="session-join">{t("session.join")}</h2>
          <JoinRoom session={s} />
          <Answer session={s} />
          <p className="session-links">
            {s.notes_id && (
              <Link to={itemPath(s.project_id, "document", s.notes_id)}>{t("session.notes")}</Link>
            )}
            <a href={`/api/v1/sessions/${encodeURIComponent(s.id)}/ics`} download="session.ics">
              {t("session.addToCalendar")}
            </a>
          </p>
        </section>
        <section className="panel" aria-labelledby="session-agenda">
          <h2 id="session-agenda">{t("session.agenda")}</h2>
          {s.agenda ? (
            <p className="agenda">{s.agenda}</p>
          ) : (
            <p className="empty">{t("session.noAgenda")}</p>
          )}
          {s.upcoming.length > 1 && (
            <>
              <h3>{t("session.nextDates")}</h3>
              <ul className="dates">
                {s.upcoming.slice(0, 8).map((o) => (
                  <li key={o.starts_at}>{when(o.starts_at, undefined, "medium")}</li>
                ))}
              </ul>
            </>
          )}
        </section>
        <Attendees session={s} />
        {s.can_edit && <Organise session={s} />}
      </div>
    </div>
  );
}

function When({ session: s }: { session: Session }) {
  const { t } = useTranslation();
  const mine = myZone();
  const start = s.next.starts_at;
  return (
    <p className="session-when" data-testid="session-when">
      <strong>
        {when(start)} – {timeOfDay(s.next.ends_at)}
      </strong>{" "}
      <span className="meta">({mine})</span>
      {!sameClock(start, mine, s.time_zone) && (
        <span className="meta organiser-time">
          {" "}
          ·{" "}
          {t("session.organiserTime", {
            time: when(start, s.time_zone, "medium"),
            zone: s.time_zone,
          })}
        </span>
      )}
      {s.recurrence && (
        <span className="meta">
          {" "}
          · {t(`session.repeats.${s.recurrence.frequency}`, { count: s.recurrence.count })}
        </span>
      )}
    </p>
  );
}

function JoinRoom({ session: s }: { session: Session }) {
  const { t } = useTranslation();
  const room = itemPath(s.project_id, "room", s.room_id);
  if (s.room_open) {
    return (
      <p>
        <Link className="button primary" to={room} data-testid="join-session">
          {t("session.joinNow")}
        </Link>
      </p>
    );
  }
  const over = s.upcoming.length === 0;
  return (
    <p className="meta" data-testid="room-closed">
      {over ? t("session.over") : t("session.opensAt", { time: when(s.room_opens_at) })}
    </p>
  );
}

function Answer({ session: s }: { session: Session }) {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const client = useQueryClient();
  const answer = useMutation({
    mutationFn: (response: Rsvp) =>
      call(
        api.PUT("/sessions/{id}/rsvp", {
          params: { path: { id: s.id } },
          body: { response },
        }),
      ),
    onSuccess: (next) => {
      client.setQueryData(sessionKey(s.id), next);
      client.invalidateQueries({ queryKey: ["my-sessions"] });
    },
  });
  const me = useSignedIn();
  // The organiser hosts: they have no answer to give.
  if (me.id === s.organiser.id) return <p className="meta">{t("session.youHost")}</p>;
  const status = s.my_status;
  const mine = s.attendees.find((a) => a.user.id === me.id);
  return (
    <div className="rsvp">
      {status && (
        <p data-testid="my-status" data-status={status}>
          {status === "waiting"
            ? t("session.status.waiting", { position: mine?.waiting_position ?? 0 })
            : t(`session.status.${status}`)}
        </p>
      )}
      <fieldset>
        <legend>{t("session.areYouComing")}</legend>
        {(["going", "maybe", "declined"] as const).map((r) => (
          <button
            key={r}
            type="button"
            aria-pressed={status === r || (r === "going" && status === "waiting")}
            disabled={answer.isPending}
            onClick={() => answer.mutate(r)}
          >
            {t(`session.rsvp.${r}`)}
          </button>
        ))}
      </fieldset>
      <Flash message={answer.error ? message(answer.error) : null} tone="error" />
    </div>
  );
}

function Attendees({ session: s }: { session: Session }) {
  const { t } = useTranslation();
  const groups = (["going", "waiting", "maybe", "invited", "declined"] as const)
    .map((status) => ({ status, people: s.attendees.filter((a) => a.status === status) }))
    .filter((g) => g.people.length > 0);
  const going = s.attendees.filter((a) => a.status === "going").length;
  return (
    <section className="panel" aria-labelledby="session-people">
      <h2 id="session-people">{t("session.people")}</h2>
      <p className="meta">
        {s.capacity
          ? t("session.goingOf", { going, capacity: s.capacity })
          : t("session.goingCount", { count: going })}
      </p>
      <p>
        {t("session.host")}: {s.organiser.display_name}
      </p>
      {groups.map((g) => (
        <div key={g.status}>
          <h3>{t(`session.group.${g.status}`)}</h3>
          <ul className="members">
            {g.people.map((a) => (
              <li key={a.user.id}>
                {a.user.display_name}
                {a.waiting_position && <span className="meta"> #{a.waiting_position}</span>}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

function Organise({ session: s }: { session: Session }) {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [starts, setStarts] = useState(s.starts);
  const [duration, setDuration] = useState(String(s.duration_minutes));
  const save = useMutation({
    mutationFn: () =>
      call(
        api.PATCH("/sessions/{id}", {
          params: { path: { id: s.id } },
          body: { starts, duration_minutes: Number(duration) },
        }),
      ),
    onSuccess: (next) => client.setQueryData(sessionKey(s.id), next),
  });
  const cancel = useMutation({
    mutationFn: () => call(api.DELETE("/sessions/{id}", { params: { path: { id: s.id } } })),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ["project-sessions", s.project_id] });
      navigate(projectPath(s.project_id));
    },
  });
  const errors = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <section className="panel" aria-labelledby="session-organise">
      <h2 id="session-organise">{t("session.organise")}</h2>
      <form onSubmit={submit} className="stack">
        <TextField
          label={t("session.startsIn", { zone: s.time_zone })}
          type="datetime-local"
          value={starts}
          onChange={(e) => setStarts(e.target.value)}
          error={errors.starts}
          required
        />
        <TextField
          label={t("session.duration")}
          type="number"
          min={5}
          max={720}
          value={duration}
          onChange={(e) => setDuration(e.target.value)}
          error={errors.duration_minutes}
          required
        />
        <p className="meta">{t("session.changeTells")}</p>
        <button type="submit" disabled={save.isPending}>
          {t("session.saveChange")}
        </button>
        <Flash message={save.isSuccess ? t("session.saved") : null} tone="ok" />
        <Flash
          message={save.error && !Object.keys(errors).length ? message(save.error) : null}
          tone="error"
        />
      </form>
      <button
        type="button"
        className="danger"
        disabled={cancel.isPending}
        onClick={() => {
          if (window.confirm(t("session.confirmCancel", { title: s.title }))) cancel.mutate();
        }}
      >
        {t("session.cancel")}
      </button>
      <Flash message={cancel.error ? message(cancel.error) : null} tone="error" />
    </section>
  );
}
