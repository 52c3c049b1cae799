import { describe, expect, it } from "vitest";
import { en } from "./en";
import { LANGUAGES, MESSAGES, pickLanguage } from "./index";

const placeholders = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

describe("translations", () => {
  const keys = Object.keys(en).sort();

  for (const lang of LANGUAGES) {
    it(`${lang} has every key, each non-empty, with the same placeholders`, () => {
      const messages: Record<string, string> = MESSAGES[lang];
      expect(Object.keys(messages).sort()).toEqual(keys);
      for (const key of keys) {
        const text = messages[key] ?? "";
        expect(text.trim(), `${lang}: ${key}`).not.toBe("");
        expect(placeholders(text), `${lang}: ${key}`).toEqual(
          placeholders(en[key as keyof typeof en]),
        );
      }
    });
  }

  it("French puts a no-break space before : ; ! and ?, so a line never starts with one", () => {
    for (const [key, text] of Object.entries(MESSAGES.fr)) {
      expect(text, key).not.toMatch(/(^|[^\u00a0\u202f])[:;!?](\s|$)/);
    }
  });

  it("every other language is translated, not copied from English", () => {
    for (const lang of LANGUAGES.filter((l) => l !== "en")) {
      const messages: Record<string, string> = MESSAGES[lang];
      const copied = keys.filter(
        (k) => messages[k] === en[k as keyof typeof en] && en[k as keyof typeof en].length > 12,
      );
      // Long strings identical to English would be untranslated; short ones ("Hubring", "Hubs") may match.
      expect(copied, lang).toEqual([]);
    }
  });
});

describe("pickLanguage", () => {
  it("uses the stored choice first", () => {
    expect(pickLanguage("pt", ["fr-FR"])).toBe("pt");
  });
  it("otherwise follows the browser's first supported language", () => {
    expect(pickLanguage(null, ["de-DE", "es-MX", "fr"])).toBe("es");
    expect(pickLanguage(null, ["PT-br"])).toBe("pt");
  });
  it("ignores a stored value it does not know, and falls back to English", () => {
    expect(pickLanguage("xx", ["ja"])).toBe("en");
    expect(pickLanguage(null, [])).toBe("en");
  });
});
