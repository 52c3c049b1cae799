// Rooms have their stable URLs now; the room itself comes with its own issue.
import { useTranslation } from "react-i18next";
import { ItemPage } from "./ItemPage";

export function ItemPlaceholder({ kind }: { kind: "room" }) {
  const { t } = useTranslation();
  return (
    <ItemPage kind={kind} className="item-placeholder">
      {({ item }) => (
        <>
          <h1>{item.title}</h1>
          <p className="notice">{t("room.soon")}</p>
        </>
      )}
    </ItemPage>
  );
}
