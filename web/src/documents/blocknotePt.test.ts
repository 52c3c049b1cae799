import { pt } from "@blocknote/core/locales";
import { describe, expect, it } from "vitest";
import { europeanPortuguese, toEuropean } from "./blocknotePt";

/** Every string of a dictionary, aliases included. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

describe("BlockNote's strings in European Portuguese", () => {
  const european = europeanPortuguese(pt);

  it("say ficheiro, eliminar, transferir and guardar, not the Brazilian words", () => {
    const shown = strings({ ...european, slash_menu: undefined });
    const slash = Object.values(european.slash_menu).flatMap((item) =>
      strings({ ...(item as object), aliases: undefined }),
    );
    for (const text of [...shown, ...slash]) {
      expect(text).not.toMatch(/\b(arquivo|Arquivo|Excluir|Baixar|Salvar|Digite|Upload)\b/);
    }
    expect(european.slash_menu.file.title).toBe("Ficheiro");
    expect(toEuropean("Baixar arquivo")).toBe("Transferir ficheiro");
  });

  it("keep every key, and find a slash command by either word", () => {
    expect(strings(Object.keys(european)).sort()).toEqual(strings(Object.keys(pt)).sort());
    expect(european.slash_menu.file.aliases).toEqual(
      expect.arrayContaining(["arquivo", "ficheiro"]),
    );
  });
});
