// Settings: how each kind of notification reaches the person (in the app, by email, both,
// not at all). Without email on this server, only the app is offered.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, call } from "../api/client";
import { useEmailEnabled } from "../auth/session";
import { Flash, useErrorMessage } from "../ui/Status";
import { CHANNELS, type NotificationKind, type NotifyChannel } from "./kinds";

const PREFS_KEY = ["notification-prefs"] as const;

export function NotificationPrefs() {
  const { t } = useTranslation();
  const message = useErrorMessage();
  const client = useQueryClient();
  const prefs = useQuery({
    queryKey: PREFS_KEY,
    queryFn: () => call(api.GET("/me/notification-prefs")),
  });
  const emailEnabled = useEmailEnabled() ?? true;
  const save = useMutation({
    mutationFn: (pref: { kind: NotificationKind; channel: NotifyChannel }) =>
      call(api.PUT("/me/notification-prefs", { body: { prefs: [pref] } })),
    onSuccess: (data) => client.setQueryData(PREFS_KEY, data),
  });
  return (
    <section className="panel" aria-labelledby="notif-prefs-title">
      <h2 id="notif-prefs-title">{t("notif.title")}</h2>
      <p>{t("notif.prefsIntro")}</p>
      {!emailEnabled && <p className="hint">{t("notif.noEmail")}</p>}
      <Flash message={save.error ? message(save.error) : null} tone="error" />
      {prefs.data?.prefs.map((pref) => (
        <div className="field" key={pref.kind}>
          <label htmlFor={`pref-${pref.kind}`}>{t(`notif.kind.${pref.kind}`)}</label>
          <select
            id={`pref-${pref.kind}`}
            value={pref.channel}
            onChange={(e) =>
              save.mutate({ kind: pref.kind, channel: e.target.value as NotifyChannel })
            }
          >
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {t(`notif.channel.${c}`)}
              </option>
            ))}
          </select>
        </div>
      ))}
    </section>
  );
}
