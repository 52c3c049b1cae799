// "Upcoming" on the home page: the next sessions on my calendar, across projects.
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, call } from "../api/client";
import { ErrorNotice, Loading } from "../ui/Status";
import { sessionPath } from "./paths";
import { when } from "./time";

export function Upcoming() {
  const { t } = useTranslation();
  const sessions = useQuery({
    queryKey: ["my-sessions"],
    queryFn: () => call(api.GET("/me/sessions")),
    refetchInterval: 60_000,
  });
  return (
    <section aria-labelledby="home-upcoming" className="panel upcoming">
      <h2 id="home-upcoming">{t("home.upcoming")}</h2>
      {sessions.isPending ? (
        <Loading />
      ) : sessions.isError ? (
        <ErrorNotice error={sessions.error} />
      ) : sessions.data.length === 0 ? (
        <p className="empty">{t("home.noUpcoming")}</p>
      ) : (
        <ul className="cards" data-testid="upcoming">
          {sessions.data.slice(0, 10).map((s) => (
            <li key={s.id}>
              <Link to={sessionPath(s.id)}>{s.title}</Link>
              <span className="meta">
                {when(s.next.starts_at, undefined, "medium")} · {s.project_title}
                {s.my_status && ` · ${t(`session.short.${s.my_status}`)}`}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
