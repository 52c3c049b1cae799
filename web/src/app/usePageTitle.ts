import { useEffect } from "react";
import { useTranslation } from "react-i18next";

/** Sets the tab's title: screen readers announce it on navigation. */
export function usePageTitle(title: string | undefined) {
  const { t } = useTranslation();
  useEffect(() => {
    document.title = title ? `${title} · ${t("app.name")}` : t("app.name");
  }, [title, t]);
}
