// What a live document or board shows about its session: the connection, whether the server
// has saved every edit, and who else is here.
import { useTranslation } from "react-i18next";
import { initials } from "./colors";
import type { DocSession } from "./provider";
import { useConnection, usePresence, useSaveStatus } from "./useDocSession";

export function ConnectionBadge({ session }: { session: DocSession }) {
  const { t } = useTranslation();
  const status = useConnection(session);
  return (
    <span className={`badge connection-${status}`} data-testid="connection" data-status={status}>
      {t(`doc.connection.${status}`)}
    </span>
  );
}

export function SaveBadge({ session, editable }: { session: DocSession; editable: boolean }) {
  const { t } = useTranslation();
  const status = useSaveStatus(session);
  if (!editable) {
    return (
      <span className="badge" data-testid="save" data-status="read-only">
        {t("doc.save.readOnly")}
      </span>
    );
  }
  return (
    <span
      className={`badge save-${status}`}
      data-testid="save"
      data-status={status}
      role="status"
      aria-live="polite"
    >
      {t(`doc.save.${status}`)}
    </span>
  );
}

export function Presence({ session }: { session: DocSession }) {
  const { t } = useTranslation();
  const participants = usePresence(session);
  return (
    <ul className="presence" aria-label={t("doc.present")} data-testid="presence">
      {participants.map((p) => {
        const label = p.self ? t("doc.you", { name: p.name }) : p.name;
        return (
          <li key={p.clientId} className="avatar" style={{ background: p.color }} title={label}>
            <span aria-hidden="true">{initials(p.name)}</span>
            <span className="visually-hidden">{label}</span>
          </li>
        );
      })}
    </ul>
  );
}
