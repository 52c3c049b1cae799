// The pages an emailed link opens, and the one that asks for a reset link: asking for a new
// password, choosing it, and confirming an address (which signs in). Each link works once; a
// used or expired one says so and how to get another.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { api, call } from "../api/client";
import { fieldErrors, TextField } from "../ui/Field";
import { Flash, useErrorMessage } from "../ui/Status";
import { AuthFrame } from "./SignIn";
import { ME_KEY } from "./session";

/** A form's send, its error and whether it is done. */
function useSend(send: (form: FormData) => Promise<unknown>) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await send(form);
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { submit, error, busy, done };
}

export function ForgotPassword() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const { submit, error, busy, done } = useSend((form) =>
    call(api.POST("/auth/reset", { body: { email: String(form.get("email")) } })),
  );
  return (
    <AuthFrame title={t("auth.forgotTitle")} intro={t("auth.forgotIntro")}>
      {done ? (
        <p className="notice" role="status">
          {t("auth.resetSent")}
        </p>
      ) : (
        <form onSubmit={submit} noValidate>
          <Flash message={error ? message(error) : null} tone="error" />
          <TextField
            label={t("auth.email")}
            name="email"
            type="email"
            autoComplete="email"
            required
            error={fieldErrors(error).email}
          />
          <button type="submit" className="primary" disabled={busy}>
            {t("auth.sendLink")}
          </button>
        </form>
      )}
      <p>
        <Link to="/signin">{t("auth.signIn")}</Link>
      </p>
    </AuthFrame>
  );
}

export function ResetPassword() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const { token = "" } = useParams();
  const { submit, error, busy, done } = useSend((form) =>
    call(
      api.POST("/auth/reset/confirm", {
        body: { token, password: String(form.get("password")) },
      }),
    ),
  );
  return (
    <AuthFrame title={t("auth.forgotTitle")} intro="">
      {done ? (
        <p className="notice" role="status">
          {t("auth.resetDone")}
        </p>
      ) : (
        <form onSubmit={submit} noValidate>
          <Flash message={error ? message(error) : null} tone="error" />
          <TextField
            label={t("auth.newPassword")}
            name="password"
            type="password"
            autoComplete="new-password"
            hint={t("auth.passwordHint")}
            required
            error={fieldErrors(error).password}
          />
          <button type="submit" className="primary" disabled={busy}>
            {t("auth.setPassword")}
          </button>
        </form>
      )}
      <p>
        <Link to="/signin">{t("auth.signIn")}</Link>
      </p>
    </AuthFrame>
  );
}

export function ConfirmEmail() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const { token = "" } = useParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  // The link works once: React's development double effect must not spend it twice.
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    call(api.POST("/auth/confirm", { body: { token } }))
      .then(async (me) => {
        client.setQueryData(ME_KEY, me);
        navigate("/", { replace: true });
      })
      .catch(setError);
  }, [token, client, navigate]);
  return (
    <AuthFrame title={t("auth.signUp")} intro="">
      {error ? (
        <>
          <Flash message={message(error)} tone="error" />
          <p>
            <Link to="/signin">{t("auth.signIn")}</Link>
          </p>
        </>
      ) : (
        <p role="status">{t("auth.confirming")}</p>
      )}
    </AuthFrame>
  );
}
