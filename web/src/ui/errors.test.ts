import i18next from "i18next";
import { beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { MESSAGES } from "../i18n";
import { fieldErrors } from "./Field";

beforeAll(async () => {
  await i18next.init({
    resources: Object.fromEntries(
      Object.entries(MESSAGES).map(([lang, messages]) => [lang, { translation: messages }]),
    ),
    lng: "fr",
    fallbackLng: "en",
    interpolation: { escapeValue: false },
  });
});

describe("a refused field is worded in the person's language", () => {
  const refused = new ApiError(
    422,
    "invalid",
    "title must be at most 200 characters; email must be an email address",
    { title: "must be at most 200 characters", email: "must be an email address", other: "odd" },
    {},
    {
      title: { code: "too_long", params: { max: 200 } },
      email: { code: "not_email" },
      other: { code: "a_code_this_client_does_not_know" },
    },
  );

  it("from its code and numbers", async () => {
    await i18next.changeLanguage("fr");
    expect(fieldErrors(refused).title).toBe("Au plus 200 caractères.");
    expect(fieldErrors(refused).email).toBe("Saisissez une adresse e-mail.");
    await i18next.changeLanguage("pt");
    expect(fieldErrors(refused).title).toBe("No máximo 200 caracteres.");
  });

  it("in the server's English when the code is unknown here", async () => {
    await i18next.changeLanguage("fr");
    expect(fieldErrors(refused).other).toBe("odd");
  });

  it("and a failure that is not a refusal has no field", () => {
    expect(fieldErrors(new Error("boom"))).toEqual({});
  });
});
