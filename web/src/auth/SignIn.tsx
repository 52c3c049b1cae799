// Sign in and sign up. Both land on the page the visitor first asked for (`?next=`).
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, call } from "../api/client";
import { usePageTitle } from "../app/usePageTitle";
import { currentLanguage } from "../i18n";
import { fieldErrors, TextField } from "../ui/Field";
import { Flash, useErrorMessage } from "../ui/Status";
import { ME_KEY, safeNext, useMe } from "./session";

/** What a form's `send` may answer: `"pending"` when the account waits for its emailed link. */
type Sent = "pending" | undefined;

/** A sign-in or sign-up form: sends it, then goes where the visitor was going (or, when the
 * server emailed a confirmation link, says so and stays). */
function useAuthForm(send: (form: FormData) => Promise<Sent>) {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const navigate = useNavigate();
  const client = useQueryClient();
  const me = useMe();
  // Already signed in (e.g. a second tab): go straight on.
  useEffect(() => {
    if (me.data) navigate(next, { replace: true });
  }, [me.data, navigate, next]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      if ((await send(form)) === "pending") {
        setPending(String(form.get("email")));
        return;
      }
      await client.invalidateQueries({ queryKey: ME_KEY });
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { next, submit, error, busy, pending };
}

export function AuthFrame({
  title,
  intro,
  children,
}: {
  title: string;
  intro: string;
  children: React.ReactNode;
}) {
  const { t } = useTranslation();
  usePageTitle(title);
  return (
    <main id="main" className="auth">
      <div className="auth-card">
        <p className="brand">{t("app.name")}</p>
        <h1>{title}</h1>
        <p className="lead">{intro}</p>
        {children}
      </div>
    </main>
  );
}

export function SignIn() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const { next, submit, error, busy } = useAuthForm(async (form) => {
    await call(
      api.POST("/auth/login", {
        body: { email: String(form.get("email")), password: String(form.get("password")) },
      }),
    );
    return undefined;
  });
  const fields = fieldErrors(error);
  return (
    <AuthFrame title={t("auth.signIn")} intro={t("auth.signInIntro")}>
      <form onSubmit={submit} noValidate>
        <Flash message={error ? message(error) : null} tone="error" />
        <TextField
          label={t("auth.email")}
          name="email"
          type="email"
          autoComplete="email"
          required
          error={fields.email}
        />
        <TextField
          label={t("auth.password")}
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={fields.password}
        />
        <button type="submit" className="primary" disabled={busy}>
          {t("auth.signIn")}
        </button>
      </form>
      <p>
        <Link to="/forgot">{t("auth.forgot")}</Link>
      </p>
      <p>
        {t("auth.noAccount")}{" "}
        <Link to={`/signup?next=${encodeURIComponent(next)}`}>{t("auth.signUp")}</Link>
      </p>
    </AuthFrame>
  );
}

export function SignUp() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const { next, submit, error, busy, pending } = useAuthForm(async (form) => {
    const request = api.POST("/auth/signup", {
      body: {
        display_name: String(form.get("display_name")),
        email: String(form.get("email")),
        password: String(form.get("password")),
        language: currentLanguage(),
      },
    });
    await call(request);
    const { response } = await request;
    // 202: this server emails a confirmation link (the same answer for every address).
    return response.status === 202 ? "pending" : undefined;
  });
  const fields = fieldErrors(error);
  if (pending) {
    return (
      <AuthFrame title={t("auth.signUp")} intro={t("auth.signUpIntro")}>
        <p className="notice" role="status">
          {t("auth.checkInbox", { email: pending })}
        </p>
      </AuthFrame>
    );
  }
  return (
    <AuthFrame title={t("auth.signUp")} intro={t("auth.signUpIntro")}>
      <form onSubmit={submit} noValidate>
        <Flash message={error ? message(error) : null} tone="error" />
        <TextField
          label={t("auth.displayName")}
          name="display_name"
          autoComplete="name"
          required
          error={fields.display_name}
        />
        <TextField
          label={t("auth.email")}
          name="email"
          type="email"
          autoComplete="email"
          required
          error={fields.email}
        />
        <TextField
          label={t("auth.password")}
          name="password"
          type="password"
          autoComplete="new-password"
          hint={t("auth.passwordHint")}
          required
          error={fields.password}
        />
        <button type="submit" className="primary" disabled={busy}>
          {t("auth.signUp")}
        </button>
      </form>
      <p>
        {t("auth.haveAccount")}{" "}
        <Link to={`/signin?next=${encodeURIComponent(next)}`}>{t("auth.signIn")}</Link>
      </p>
    </AuthFrame>
  );
}
