// `/invite/{token}`: an invitation link. Signing in comes first (RequireAuth), then joining.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { ApiError, api, call } from "../api/client";
import { ErrorNotice, Loading } from "../ui/Status";
import { projectPath } from "./paths";

/** Why a link that worked once no longer does (the API's error codes). */
const CLOSED = ["invite_revoked", "invite_expired", "invite_used_up"] as const;

export function InvitePage() {
  const { token = "" } = useParams();
  const { t } = useTranslation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    call(api.POST("/invites/{token}/accept", { params: { path: { token } } }))
      .then(async (accepted) => {
        await client.invalidateQueries({ queryKey: ["projects"] });
        navigate(projectPath(accepted.project_id), { replace: true });
      })
      .catch(setError);
  }, [token, navigate, client]);
  if (error) {
    // A link that once worked says why it no longer does, and what to do; so does a link that
    // never did (mistyped, cut short when copied).
    const why =
      error instanceof ApiError
        ? error.status === 404
          ? "unknown"
          : CLOSED.find((code) => code === error.code)
        : undefined;
    if (!why) return <ErrorNotice error={error} />;
    return (
      <div className="page">
        <div className="notice notice-error" role="alert" data-testid="invite-closed">
          <p>{t(`invite.closed.${why}`)}</p>
          <p>{t("invite.askAgain")}</p>
          <Link to="/">{t("app.backHome")}</Link>
        </div>
      </div>
    );
  }
  return (
    <div className="page">
      <p>{t("invite.accepting")}</p>
      <Loading />
    </div>
  );
}
