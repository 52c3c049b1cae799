// `/invite/{token}`: an invitation link. Signing in comes first (RequireAuth), then joining.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";
import { api, call } from "../api/client";
import { ErrorNotice, Loading } from "../ui/Status";
import { projectPath } from "./paths";

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
  if (error) return <ErrorNotice error={error} />;
  return (
    <div className="page">
      <p>{t("invite.accepting")}</p>
      <Loading />
    </div>
  );
}
