// Settings, for instance admins: whether this server sends email, and how its outbox stands
// (emails waiting, sent, given up; failed attempts mean the SMTP server is refusing).
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, call } from "../api/client";
import { ErrorNotice, Loading } from "../ui/Status";

export function MailHealth() {
  const { t } = useTranslation();
  const health = useQuery({
    queryKey: ["admin-mail"],
    queryFn: () => call(api.GET("/admin/mail")),
    refetchInterval: 30_000,
  });
  return (
    <section className="panel" aria-labelledby="mail-health-title">
      <h2 id="mail-health-title">{t("mailHealth.title")}</h2>
      {health.isPending ? (
        <Loading />
      ) : health.isError ? (
        <ErrorNotice error={health.error} />
      ) : !health.data.enabled ? (
        <p data-testid="mail-health">{t("mailHealth.off")}</p>
      ) : (
        <p data-testid="mail-health">
          {t("mailHealth.counts", {
            waiting: health.data.waiting,
            sent: health.data.sent,
            failed: health.data.failed,
          })}
          {health.data.failed_attempts > 0 && (
            <strong> {t("mailHealth.refusing", { attempts: health.data.failed_attempts })}</strong>
          )}
        </p>
      )}
    </section>
  );
}
