import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { api, call } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { ErrorNotice, Loading } from "../ui/Status";

export function PersonPage() {
  const { userId = "" } = useParams();
  const { t } = useTranslation();
  const person = useQuery({
    queryKey: ["person", userId],
    queryFn: () => call(api.GET("/people/{id}", { params: { path: { id: userId } } })),
  });
  usePageTitle(person.data?.display_name);
  if (person.isPending) return <Loading />;
  if (person.isError) return <ErrorNotice error={person.error} />;
  const p = person.data;
  const lists: [string, string[]][] = [
    [t("people.skills"), p.skills],
    [t("people.disciplines"), p.disciplines],
    [t("people.languages"), p.languages],
    [t("people.openTo"), p.open_to.map((o) => t(`openTo.${o}`))],
  ];
  return (
    <div className="page narrow">
      <h1>{p.display_name}</h1>
      <p className="meta">{[p.city, p.country].filter(Boolean).join(", ")}</p>
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
    </div>
  );
}
