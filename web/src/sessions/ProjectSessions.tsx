// A project's sessions: its calendar (the coming weeks, day by day, in my zone) and, for those
// who may, a form to schedule one.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { api, call, type Schemas } from "../api/client";
import { currentLanguage } from "../i18n";
import { fieldErrors, SelectField, TextArea, TextField } from "../ui/Field";
import { ErrorNotice, Flash, Loading, useErrorMessage } from "../ui/Status";
import { sessionPath } from "./paths";
import { dayKey, myZone, timeOfDay, zones } from "./time";

type Kind = Schemas["SessionKind"];
const KINDS: readonly Kind[] = ["peer_learning", "workshop", "meeting", "coaching"];

export function ProjectSessions({
  projectId,
  canSchedule,
  members,
}: {
  projectId: string;
  canSchedule: boolean;
  members: Schemas["MemberView"][];
}) {
  const { t } = useTranslation();
  const [scheduling, setScheduling] = useState(false);
  const sessions = useQuery({
    queryKey: ["project-sessions", projectId],
    queryFn: () =>
      call(api.GET("/projects/{id}/sessions", { params: { path: { id: projectId } } })),
  });
  // Every coming occurrence, grouped by my local day: the project's calendar.
  const days = useMemo(() => {
    const byDay = new Map<string, { at: number; ends: number; s: Schemas["SessionDetail"] }[]>();
    for (const s of sessions.data ?? []) {
      for (const o of s.upcoming.slice(0, 12)) {
        const key = dayKey(o.starts_at);
        byDay.set(key, [...(byDay.get(key) ?? []), { at: o.starts_at, ends: o.ends_at, s }]);
      }
    }
    return [...byDay.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .slice(0, 14)
      .map(([day, list]) => ({ day, list: list.sort((a, b) => a.at - b.at) }));
  }, [sessions.data]);
  const dayName = (ms: number) =>
    new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "full" }).format(ms);
  return (
    <section aria-labelledby="project-sessions" className="panel sessions">
      <div className="panel-head">
        <h2 id="project-sessions">{t("session.calendar")}</h2>
        {canSchedule && !scheduling && (
          <button type="button" className="primary" onClick={() => setScheduling(true)}>
            {t("session.schedule")}
          </button>
        )}
      </div>
      {scheduling && (
        <ScheduleForm
          projectId={projectId}
          members={members}
          onClose={() => setScheduling(false)}
        />
      )}
      {sessions.isPending ? (
        <Loading />
      ) : sessions.isError ? (
        <ErrorNotice error={sessions.error} />
      ) : days.length === 0 ? (
        <p className="empty">{t("session.none")}</p>
      ) : (
        <ol className="calendar" data-testid="project-calendar">
          {days.map(({ day, list }) => (
            <li key={day}>
              <h3>{dayName(list[0]?.at ?? 0)}</h3>
              <ul>
                {list.map(({ at, ends, s }) => (
                  <li key={`${s.id}-${at}`}>
                    <time dateTime={new Date(at).toISOString()}>
                      {timeOfDay(at)}–{timeOfDay(ends)}
                    </time>{" "}
                    <Link to={sessionPath(s.id)}>{s.title}</Link>{" "}
                    <span className="meta">{t(`session.kind.${s.kind}`)}</span>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** Tomorrow at 18:00, as a `datetime-local` value. */
function tomorrowEvening(): string {
  const d = new Date(Date.now() + 86_400_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T18:00`;
}

function ScheduleForm({
  projectId,
  members,
  onClose,
}: {
  projectId: string;
  members: Schemas["MemberView"][];
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [title, setTitle] = useState("");
  const [kind, setKind] = useState<Kind>("peer_learning");
  const [starts, setStarts] = useState(tomorrowEvening);
  const [zone, setZone] = useState(myZone);
  const [duration, setDuration] = useState("60");
  const [repeat, setRepeat] = useState<"once" | "weekly" | "monthly">("once");
  const [count, setCount] = useState("4");
  const [capacity, setCapacity] = useState("");
  const [agenda, setAgenda] = useState("");
  const [coachee, setCoachee] = useState(members[0]?.user_id ?? "");
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST("/projects/{id}/sessions", {
          params: { path: { id: projectId } },
          body: {
            title,
            kind,
            agenda,
            starts,
            time_zone: zone,
            duration_minutes: Number(duration),
            recurrence:
              repeat === "once"
                ? null
                : { frequency: repeat, count: Number(count), exceptions: [] },
            capacity: capacity ? Number(capacity) : null,
            invite: kind === "coaching" ? [coachee] : null,
            notes_title: t("session.notesTitle", { title }),
            language: currentLanguage(),
          },
        }),
      ),
    onSuccess: async (created) => {
      await client.invalidateQueries({ queryKey: ["project-sessions", projectId] });
      await client.invalidateQueries({ queryKey: ["my-sessions"] });
      navigate(sessionPath(created.id));
    },
  });
  const errors = fieldErrors(create.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="stack schedule" onSubmit={submit} aria-label={t("session.schedule")}>
      <TextField
        label={t("session.title")}
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        error={errors.title}
        required
      />
      <SelectField
        label={t("session.kindLabel")}
        value={kind}
        onChange={(v) => setKind(v as Kind)}
        options={KINDS.map((k) => ({ value: k, label: t(`session.kind.${k}`) }))}
      />
      {kind === "coaching" && (
        <SelectField
          label={t("session.coachee")}
          value={coachee}
          onChange={setCoachee}
          options={members.map((m) => ({ value: m.user_id, label: m.display_name }))}
          error={errors.invite}
        />
      )}
      <TextField
        label={t("session.starts")}
        type="datetime-local"
        value={starts}
        onChange={(e) => setStarts(e.target.value)}
        error={errors.starts}
        required
      />
      <TextField
        label={t("session.zone")}
        list="session-zones"
        value={zone}
        onChange={(e) => setZone(e.target.value)}
        error={errors.time_zone}
        required
      />
      <datalist id="session-zones">
        {zones().map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
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
      <SelectField
        label={t("session.repeat")}
        value={repeat}
        onChange={(v) => setRepeat(v as typeof repeat)}
        options={(["once", "weekly", "monthly"] as const).map((r) => ({
          value: r,
          label: t(`session.repeat.${r}`),
        }))}
      />
      {repeat !== "once" && (
        <TextField
          label={t("session.count")}
          type="number"
          min={2}
          max={260}
          value={count}
          onChange={(e) => setCount(e.target.value)}
          error={errors["recurrence.count"]}
        />
      )}
      <TextField
        label={t("session.capacity")}
        type="number"
        min={1}
        value={capacity}
        onChange={(e) => setCapacity(e.target.value)}
        error={errors.capacity}
      />
      <TextArea
        label={t("session.agenda")}
        value={agenda}
        onChange={(e) => setAgenda(e.target.value)}
        rows={4}
        error={errors.agenda}
      />
      <p className="meta">
        {kind === "coaching" ? t("session.coachingPrivate") : t("session.invitesAll")}
      </p>
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {t("session.create")}
        </button>
        <button type="button" onClick={onClose}>
          {t("app.cancel")}
        </button>
      </div>
      <Flash
        message={create.error && !Object.keys(errors).length ? message(create.error) : null}
        tone="error"
      />
    </form>
  );
}
