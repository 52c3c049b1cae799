import { describe, expect, it } from "vitest";
import { countryName, languageName, options, toCountryCode, toLanguageCode } from "./codes";

describe("languages and countries are codes, shown and typed in the viewer's language", () => {
  it("shows a code by its name in the viewer's language, and free text as typed", () => {
    expect(languageName("fr", "en")).toBe("French");
    expect(languageName("fr", "fr")).toBe("français");
    expect(languageName("pt", "pt")).toBe("português");
    expect(countryName("PT", "fr")).toBe("Portugal");
    expect(countryName("IE", "es")).toBe("Irlanda");
    expect(languageName("Elvish", "en")).toBe("Elvish");
  });

  it("reads a code from a code or a name, in the viewer's language, English or the language's own", () => {
    expect(toLanguageCode("FR", "en")).toBe("fr");
    expect(toLanguageCode("anglais", "fr")).toBe("en");
    expect(toLanguageCode("Portuguese", "fr")).toBe("pt");
    expect(toLanguageCode("Español", "en")).toBe("es");
    expect(toLanguageCode(" gaeilge ", "en")).toBe("ga");
    expect(toCountryCode("Irlande", "fr")).toBe("IE");
    expect(toCountryCode("portugal", "pt")).toBe("PT");
    expect(toLanguageCode("Elvish", "en")).toBe("Elvish");
  });

  it("lists every language and country by name", () => {
    const languages = options("language", "en");
    expect(languages.length).toBeGreaterThan(150);
    expect(languages.find((o) => o.code === "pt")?.name).toBe("Portuguese");
    expect(options("region", "fr").find((o) => o.code === "ES")?.name).toBe("Espagne");
  });
});
