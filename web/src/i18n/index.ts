// The i18n layer: every user-facing string goes through `t` (react-i18next). The language is
// the one the user picked in settings, otherwise the first of the browser's languages we have.
import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import { en } from "./en";
import { es } from "./es";
import { fr } from "./fr";
import { pt } from "./pt";

export const LANGUAGES = ["en", "fr", "es", "pt"] as const;
export type Language = (typeof LANGUAGES)[number];
export const MESSAGES = { en, fr, es, pt } as const;
/** Each language's name in itself, for the picker. */
export const LANGUAGE_NAMES: Record<Language, string> = {
  en: "English",
  fr: "Français",
  es: "Español",
  pt: "Português",
};

const STORAGE_KEY = "hubring.language";

function isLanguage(tag: string): tag is Language {
  return (LANGUAGES as readonly string[]).includes(tag);
}

/** The language to show: the stored choice, else the first supported browser language. */
export function pickLanguage(stored: string | null, browser: readonly string[]): Language {
  if (stored && isLanguage(stored)) return stored;
  for (const tag of browser) {
    const base = tag.toLowerCase().split("-")[0] ?? "";
    if (isLanguage(base)) return base;
  }
  return "en";
}

function storedChoice(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** The user's explicit choice, or null when the browser decides. */
export function chosenLanguage(): Language | null {
  const stored = storedChoice();
  return stored && isLanguage(stored) ? stored : null;
}

/** Sets (or, with null, forgets) the user's choice and switches the interface. */
export async function setLanguage(choice: Language | null): Promise<void> {
  try {
    if (choice) localStorage.setItem(STORAGE_KEY, choice);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage may be off (private mode): the choice then lasts for this page only.
  }
  await i18next.changeLanguage(choice ?? pickLanguage(null, navigator.languages));
}

export function currentLanguage(): Language {
  const lang = i18next.resolvedLanguage ?? "en";
  return isLanguage(lang) ? lang : "en";
}

export async function initI18n(): Promise<void> {
  i18next.on("languageChanged", (lang) => {
    document.documentElement.lang = lang;
  });
  await i18next.use(initReactI18next).init({
    resources: Object.fromEntries(LANGUAGES.map((lang) => [lang, { translation: MESSAGES[lang] }])),
    lng: pickLanguage(storedChoice(), navigator.languages),
    fallbackLng: "en",
    supportedLngs: [...LANGUAGES],
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  document.documentElement.lang = i18next.language;
}

/** "3 minutes ago", in the current language. */
export function timeAgo(ms: number, now: number = Date.now()): string {
  const format = new Intl.RelativeTimeFormat(currentLanguage(), { numeric: "auto" });
  const seconds = Math.round((ms - now) / 1000);
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ["second", 60],
    ["minute", 60],
    ["hour", 24],
    ["day", 30],
    ["month", 12],
  ];
  let value = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) return format.format(value, unit);
    value = Math.round(value / size);
  }
  return format.format(value, "year");
}
