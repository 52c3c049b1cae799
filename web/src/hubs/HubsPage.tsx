import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, call, type Schemas } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { countryName } from "../directory/codes";
import { ErrorNotice, Loading } from "../ui/Status";

export function HubsPage() {
  const { t } = useTranslation();
  usePageTitle(t("hub.all"));
  const hubs = useQuery({ queryKey: ["hubs"], queryFn: () => call(api.GET("/hubs")) });
  return (
    <div className="page">
      <div className="panel-head">
        <h1>{t("hub.all")}</h1>
        <Link className="button primary" to="/hubs/new">
          {t("home.newHub")}
        </Link>
      </div>
      {hubs.isPending ? (
        <Loading />
      ) : hubs.isError ? (
        <ErrorNotice error={hubs.error} />
      ) : hubs.data.length === 0 ? (
        <p className="empty">{t("app.none")}</p>
      ) : (
        <HubList hubs={hubs.data} />
      )}
    </div>
  );
}

/** Hubs as cards: name, then city and country. */
export function HubList({ hubs }: { hubs: Schemas["HubSummary"][] }) {
  const { i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  return (
    <ul className="cards">
      {hubs.map((h) => (
        <li key={h.id}>
          <Link to={`/hubs/${encodeURIComponent(h.id)}`}>{h.name}</Link>
          <span className="meta">
            {h.city}, {countryName(h.country, lang)}
          </span>
        </li>
      ))}
    </ul>
  );
}
