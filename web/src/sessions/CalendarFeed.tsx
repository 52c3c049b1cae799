// Settings: my private calendar address, for Google Calendar, Outlook or Apple Calendar to
// subscribe to, and a new one when the old one was shared by mistake.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, call } from "../api/client";
import { CopyText } from "../projects/ProjectPage";
import { Flash, Loading, useErrorMessage } from "../ui/Status";

export function CalendarFeed() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const client = useQueryClient();
  const feed = useQuery({
    queryKey: ["calendar-feed"],
    queryFn: () => call(api.GET("/me/calendar-feed")),
  });
  const renew = useMutation({
    mutationFn: () => call(api.POST("/me/calendar-feed")),
    onSuccess: (next) => client.setQueryData(["calendar-feed"], next),
  });
  return (
    <section className="panel" aria-labelledby="calendar-title">
      <h2 id="calendar-title">{t("calendar.title")}</h2>
      <p>{t("calendar.intro")}</p>
      {feed.isPending ? <Loading /> : feed.data && <CopyText text={feed.data.url} />}
      <p className="meta">{t("calendar.private")}</p>
      <button
        type="button"
        disabled={renew.isPending}
        onClick={() => {
          if (window.confirm(t("calendar.confirmRenew"))) renew.mutate();
        }}
      >
        {t("calendar.renew")}
      </button>
      <Flash message={renew.isSuccess ? t("calendar.renewed") : null} tone="ok" />
      <Flash
        message={(feed.error ?? renew.error) ? message(feed.error ?? renew.error) : null}
        tone="error"
      />
    </section>
  );
}
