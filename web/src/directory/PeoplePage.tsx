// The partner finder: the people directory with its filters. The filters live in the URL, so a
// search can be shared and the back button works.
import { useQuery } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { api, call, type OpenTo } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { TextField } from "../ui/Field";
import { ErrorNotice, Loading } from "../ui/Status";
import { countryName, languageName, toCountryCode, toLanguageCode } from "./codes";
import { Suggestions } from "./Suggestions";

export const OPEN_TO: OpenTo[] = ["collaborating", "mentoring", "hosting_visitors"];
const FILTERS = ["q", "skill", "city", "country", "language", "open_to"] as const;
const PER_PAGE = 20;

export function PeoplePage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  usePageTitle(t("people.title"));
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  const filters = Object.fromEntries(
    FILTERS.map((f) => [f, params.get(f) ?? ""]).filter(([, v]) => v !== ""),
  ) as Partial<Record<(typeof FILTERS)[number], string>>;
  const people = useQuery({
    queryKey: ["people", filters, page],
    queryFn: () =>
      call(
        api.GET("/people", {
          params: {
            query: {
              ...filters,
              open_to: filters.open_to as OpenTo | undefined,
              page,
              per_page: PER_PAGE,
            },
          },
        }),
      ),
    placeholderData: (previous) => previous,
  });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const f of FILTERS) {
      const value = String(form.get(f) ?? "").trim();
      if (!value) continue;
      // A language or a country is filtered by its code, typed by its name in any language.
      if (f === "language") next.set(f, toLanguageCode(value, lang));
      else if (f === "country") next.set(f, toCountryCode(value, lang));
      else next.set(f, value);
    }
    setParams(next);
  };
  const goTo = (n: number) => {
    const next = new URLSearchParams(params);
    next.set("page", String(n));
    setParams(next);
  };
  const pages = people.data ? Math.max(1, Math.ceil(people.data.total / people.data.per_page)) : 1;

  return (
    <div className="page">
      <h1>{t("people.title")}</h1>
      <p className="lead">{t("people.intro")}</p>
      <search>
        <form className="filters panel" onSubmit={submit} key={params.toString()}>
          <TextField
            label={t("people.query")}
            name="q"
            hint={t("people.queryHint")}
            defaultValue={filters.q ?? ""}
          />
          <TextField label={t("people.skill")} name="skill" defaultValue={filters.skill ?? ""} />
          <TextField label={t("people.city")} name="city" defaultValue={filters.city ?? ""} />
          <TextField
            label={t("people.country")}
            name="country"
            list="filter-country-names"
            autoComplete="off"
            defaultValue={filters.country ? countryName(filters.country, lang) : ""}
          />
          <Suggestions id="filter-country-names" kind="region" />
          <TextField
            label={t("people.language")}
            name="language"
            list="filter-language-names"
            autoComplete="off"
            defaultValue={filters.language ? languageName(filters.language, lang) : ""}
          />
          <Suggestions id="filter-language-names" kind="language" />
          <OpenToSelect defaultValue={filters.open_to ?? ""} />
          <button type="submit" className="primary">
            {t("people.search")}
          </button>
        </form>
      </search>
      {people.isPending ? (
        <Loading />
      ) : people.isError ? (
        <ErrorNotice error={people.error} onRetry={() => people.refetch()} />
      ) : (
        <section aria-labelledby="people-results">
          <h2 id="people-results" aria-live="polite">
            {t("people.results", { count: people.data.total })}
          </h2>
          {people.data.items.length === 0 ? (
            <p className="empty">{t("people.none")}</p>
          ) : (
            <ul className="people">
              {people.data.items.map((p) => (
                <li key={p.id} className="person-card">
                  <Link to={`/people/${encodeURIComponent(p.id)}`} className="person-name">
                    {p.display_name}
                  </Link>
                  <span className="meta">
                    {[p.city, p.country && countryName(p.country, lang)].filter(Boolean).join(", ")}
                  </span>
                  {p.skills.length > 0 && (
                    <ul className="tags" aria-label={t("people.skills")}>
                      {p.skills.map((s) => (
                        <li key={s}>{s}</li>
                      ))}
                    </ul>
                  )}
                  {p.open_to.length > 0 && (
                    <p className="meta">
                      {t("people.openTo")}: {p.open_to.map((o) => t(`openTo.${o}`)).join(", ")}
                    </p>
                  )}
                </li>
              ))}
            </ul>
          )}
          {pages > 1 && (
            <nav className="pager" aria-label={t("people.page", { page, pages })}>
              <button type="button" disabled={page <= 1} onClick={() => goTo(page - 1)}>
                {t("people.previous")}
              </button>
              <span>{t("people.page", { page, pages })}</span>
              <button type="button" disabled={page >= pages} onClick={() => goTo(page + 1)}>
                {t("people.next")}
              </button>
            </nav>
          )}
        </section>
      )}
    </div>
  );
}

function OpenToSelect({ defaultValue }: { defaultValue: string }) {
  const { t } = useTranslation();
  return (
    <div className="field">
      <label htmlFor="people-open-to">{t("people.openTo")}</label>
      <select id="people-open-to" name="open_to" defaultValue={defaultValue}>
        <option value="">{t("people.any")}</option>
        {OPEN_TO.map((o) => (
          <option key={o} value={o}>
            {t(`openTo.${o}`)}
          </option>
        ))}
      </select>
    </div>
  );
}
