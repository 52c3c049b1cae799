// Settings: the interface language (also the language of emails), notifications, the
// calendar feed, the password, personal API tokens, and for admins how email stands.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, call } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { useSignedIn } from "../auth/session";
import {
  chosenLanguage,
  currentLanguage,
  LANGUAGE_NAMES,
  LANGUAGES,
  type Language,
  setLanguage,
  timeAgo,
} from "../i18n";
import { MailHealth } from "../notifications/MailHealth";
import { NotificationPrefs } from "../notifications/NotificationPrefs";
import { CopyText } from "../projects/ProjectPage";
import { CalendarFeed } from "../sessions/CalendarFeed";
import { fieldErrors, SelectField, TextField } from "../ui/Field";
import { Flash, Loading, useErrorMessage } from "../ui/Status";

export function SettingsPage() {
  const { t } = useTranslation();
  const me = useSignedIn();
  usePageTitle(t("settings.title"));
  return (
    <div className="page narrow">
      <h1>{t("settings.title")}</h1>
      <LanguageSetting />
      <NotificationPrefs />
      <CalendarFeed />
      {me.is_admin && <MailHealth />}
      <PasswordSetting />
      <Tokens />
    </div>
  );
}

function LanguageSetting() {
  const { t } = useTranslation();
  const [choice, setChoice] = useState<string>(chosenLanguage() ?? "");
  return (
    <section className="panel" aria-labelledby="language-title">
      <h2 id="language-title">{t("settings.language")}</h2>
      <SelectField
        label={t("settings.language")}
        value={choice}
        onChange={(value) => {
          setChoice(value);
          void setLanguage(value ? (value as Language) : null).then(() =>
            // Emails follow the interface's language.
            call(api.PATCH("/me/profile", { body: { language: currentLanguage() } })),
          );
        }}
        options={[
          { value: "", label: t("settings.languageBrowser") },
          ...LANGUAGES.map((l) => ({ value: l, label: LANGUAGE_NAMES[l] })),
        ]}
      />
    </section>
  );
}

function PasswordSetting() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const [done, setDone] = useState(false);
  const change = useMutation({
    mutationFn: (body: { current_password: string; new_password: string }) =>
      call(api.POST("/auth/password", { body })),
    onSuccess: () => setDone(true),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setDone(false);
    const form = new FormData(event.currentTarget);
    change.mutate({
      current_password: String(form.get("current_password")),
      new_password: String(form.get("new_password")),
    });
  };
  const fields = fieldErrors(change.error);
  return (
    <section className="panel" aria-labelledby="password-title">
      <h2 id="password-title">{t("settings.password")}</h2>
      <form onSubmit={submit} noValidate>
        <Flash
          message={
            change.error ? message(change.error) : done ? t("settings.passwordChanged") : null
          }
          tone={change.error ? "error" : "ok"}
        />
        <TextField
          label={t("settings.currentPassword")}
          name="current_password"
          type="password"
          autoComplete="current-password"
          error={fields.current_password}
        />
        <TextField
          label={t("settings.newPassword")}
          name="new_password"
          type="password"
          autoComplete="new-password"
          hint={t("auth.passwordHint")}
          error={fields.new_password}
        />
        <button type="submit" disabled={change.isPending}>
          {t("settings.password")}
        </button>
      </form>
    </section>
  );
}

function Tokens() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const message = useErrorMessage();
  const [secret, setSecret] = useState<string | null>(null);
  const tokens = useQuery({ queryKey: ["tokens"], queryFn: () => call(api.GET("/tokens")) });
  const create = useMutation({
    mutationFn: (name: string) => call(api.POST("/tokens", { body: { name } })),
    onSuccess: async (created) => {
      setSecret(created.token);
      await client.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => call(api.DELETE("/tokens/{id}", { params: { path: { id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ["tokens"] }),
  });
  return (
    <section className="panel" aria-labelledby="tokens-title">
      <h2 id="tokens-title">{t("settings.tokens")}</h2>
      <p>{t("settings.tokensIntro")}</p>
      <form
        className="inline-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          setSecret(null);
          create.mutate(String(new FormData(event.currentTarget).get("name")));
        }}
      >
        <Flash message={create.error ? message(create.error) : null} tone="error" />
        <TextField
          label={t("settings.tokenName")}
          name="name"
          required
          error={fieldErrors(create.error).name}
        />
        <button type="submit" disabled={create.isPending}>
          {t("app.create")}
        </button>
      </form>
      {secret && (
        <div className="notice notice-ok" role="status">
          <p>{t("settings.tokenCreated")}</p>
          <CopyText text={secret} />
        </div>
      )}
      {tokens.isPending ? (
        <Loading />
      ) : tokens.data && tokens.data.length > 0 ? (
        <ul className="members">
          {tokens.data.map((token) => (
            <li key={token.id}>
              <span>{token.name}</span>
              <span className="meta">
                {token.last_used_at
                  ? t("settings.tokenLastUsed", { when: timeAgo(token.last_used_at) })
                  : t("settings.tokenNeverUsed")}
              </span>
              <button
                type="button"
                className="link-button danger"
                onClick={() => {
                  if (window.confirm(t("settings.confirmRevoke", { name: token.name })))
                    revoke.mutate(token.id);
                }}
              >
                {t("project.revoke")}
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="empty">{t("settings.noTokens")}</p>
      )}
    </section>
  );
}
