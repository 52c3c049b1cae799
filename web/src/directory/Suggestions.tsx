// The names of every language or country in the viewer's language, offered as an input types.
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { options } from "./codes";

export function Suggestions({ id, kind }: { id: string; kind: "language" | "region" }) {
  const { i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const list = useMemo(() => options(kind, lang), [kind, lang]);
  return (
    <datalist id={id}>
      {list.map((o) => (
        <option key={o.code} value={o.name} />
      ))}
    </datalist>
  );
}
