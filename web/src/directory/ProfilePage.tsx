// Profile editing: what partners see in the directory.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, call, type OpenTo, type Schemas } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { ME_KEY } from "../auth/session";
import { fieldErrors, splitList, TextArea, TextField } from "../ui/Field";
import { ErrorNotice, Flash, Loading, useErrorMessage } from "../ui/Status";
import { countryName, languageName, toCountryCode, toLanguageCode } from "./codes";
import { OPEN_TO } from "./PeoplePage";
import { Suggestions } from "./Suggestions";

export function ProfilePage() {
  const { t } = useTranslation();
  usePageTitle(t("profile.title"));
  const profile = useQuery({ queryKey: ["profile"], queryFn: () => call(api.GET("/me/profile")) });
  if (profile.isPending) return <Loading />;
  if (profile.isError)
    return <ErrorNotice error={profile.error} onRetry={() => profile.refetch()} />;
  return <ProfileForm profile={profile.data} />;
}

function ProfileForm({ profile }: { profile: Schemas["Profile"] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const client = useQueryClient();
  const message = useErrorMessage();
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: (body: Schemas["ProfileUpdate"]) => call(api.PATCH("/me/profile", { body })),
    onSuccess: async (updated) => {
      client.setQueryData(["profile"], updated);
      await client.invalidateQueries({ queryKey: ME_KEY });
      setSaved(true);
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setSaved(false);
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "");
    save.mutate({
      display_name: text("display_name"),
      city: text("city"),
      // Names in the person's language (or codes) become the ISO codes the server keeps.
      country: text("country").trim() ? toCountryCode(text("country"), lang) : "",
      languages: splitList(text("languages")).map((l) => toLanguageCode(l, lang)),
      skills: splitList(text("skills")),
      disciplines: splitList(text("disciplines")),
      bio: text("bio"),
      open_to: OPEN_TO.filter((o) => form.get(`open_to.${o}`) === "on"),
      profile_visibility: form.get("listed") === "on" ? "network" : "hidden",
      show_email: form.get("show_email") === "on",
    });
  };
  const fields = fieldErrors(save.error);
  const comma = t("app.commaSeparated");
  return (
    <div className="page narrow">
      <h1>{t("profile.title")}</h1>
      <p className="lead">{t("profile.intro")}</p>
      <form className="panel" onSubmit={submit} noValidate>
        <Flash
          message={save.error ? message(save.error) : saved ? t("profile.saved") : null}
          tone={save.error ? "error" : "ok"}
        />
        <TextField
          label={t("auth.displayName")}
          name="display_name"
          defaultValue={profile.display_name}
          error={fields.display_name}
        />
        <div className="row">
          <TextField
            label={t("profile.city")}
            name="city"
            defaultValue={profile.city}
            error={fields.city}
          />
          <TextField
            label={t("profile.country")}
            name="country"
            list="country-names"
            autoComplete="off"
            defaultValue={countryName(profile.country, lang)}
            error={fields.country}
          />
          <Suggestions id="country-names" kind="region" />
        </div>
        <TextField
          label={t("profile.languages")}
          name="languages"
          hint={comma}
          list="language-names"
          autoComplete="off"
          defaultValue={profile.languages.map((l) => languageName(l, lang)).join(", ")}
          error={fields.languages}
        />
        <Suggestions id="language-names" kind="language" />
        <TextField
          label={t("profile.skills")}
          name="skills"
          hint={comma}
          defaultValue={profile.skills.join(", ")}
          error={fields.skills}
        />
        <TextField
          label={t("profile.disciplines")}
          name="disciplines"
          hint={comma}
          defaultValue={profile.disciplines.join(", ")}
          error={fields.disciplines}
        />
        <TextArea
          label={t("profile.bio")}
          name="bio"
          rows={5}
          defaultValue={profile.bio}
          error={fields.bio}
        />
        <fieldset>
          <legend>{t("profile.openTo")}</legend>
          {OPEN_TO.map((o: OpenTo) => (
            <label key={o} className="check">
              <input
                type="checkbox"
                name={`open_to.${o}`}
                defaultChecked={profile.open_to.includes(o)}
              />{" "}
              {t(`openTo.${o}`)}
            </label>
          ))}
        </fieldset>
        <label className="check">
          <input
            type="checkbox"
            name="listed"
            defaultChecked={profile.profile_visibility === "network"}
          />{" "}
          {t("profile.listed")}
        </label>
        <label className="check">
          <input type="checkbox" name="show_email" defaultChecked={profile.show_email} />{" "}
          {t("profile.showEmail")}
        </label>
        <button type="submit" className="primary" disabled={save.isPending}>
          {t("app.save")}
        </button>
      </form>
    </div>
  );
}
