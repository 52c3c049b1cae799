// One click from an email's "stop these emails" link: this kind stops coming by email (the app
// keeps showing it). A page with a button rather than a request on load, so that a mail
// scanner opening the link changes nothing.
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { api, call } from "../api/client";
import { AuthFrame } from "../auth/SignIn";
import { Flash, useErrorMessage } from "../ui/Status";
import { KINDS, type NotificationKind } from "./kinds";

export function Unsubscribe() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const { secret = "", kind = "" } = useParams();
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const known = (KINDS as readonly string[]).includes(kind);
  const label = known ? t(`notif.kind.${kind as NotificationKind}`) : kind;
  return (
    <AuthFrame title={t("unsubscribe.title")} intro={t("unsubscribe.intro", { kind: label })}>
      <Flash message={error ? message(error) : null} tone="error" />
      {done ? (
        <p className="notice" role="status">
          {t("unsubscribe.done")}
        </p>
      ) : (
        <button
          type="button"
          className="primary"
          onClick={() =>
            call(api.POST("/unsubscribe/{secret}/{kind}", { params: { path: { secret, kind } } }))
              .then(() => setDone(true))
              .catch(setError)
          }
        >
          {t("unsubscribe.title")}
        </button>
      )}
      <p>
        <Link to="/settings">{t("nav.settings")}</Link>
      </p>
    </AuthFrame>
  );
}
