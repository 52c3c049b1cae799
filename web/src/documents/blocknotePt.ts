// BlockNote's Portuguese strings are Brazilian ("arquivo", "Excluir", "Baixar", "Salvar"); the
// app speaks European Portuguese. BlockNote ships no pt-PT dictionary, so its strings are
// rewritten here, word by word, in the order below (longer phrases first). Search aliases keep
// their Brazilian forms and gain the European ones, so a slash command is found either way.
import type { Dictionary } from "@blocknote/core";

const TO_EUROPEAN: [RegExp, string][] = [
  [/Erro: Falha no upload/g, "Erro: o carregamento falhou"],
  [/Tem certeza de que deseja/g, "Tem a certeza de que quer"],
  [/Toggle vazio\. Clique/g, "Lista expansível vazia. Clique"],
  [/Abrir em nova aba/g, "Abrir num novo separador"],
  [/Alternar visualização/g, "Alternar vista"],
  [/Insira a URL/g, "Introduza o URL"],
  [/Upload de /g, "Carregar "],
  [/\bUpload\b/g, "Carregar"],
  [/\bupload\b/g, "carregar"],
  [/Digite\b/g, "Escreva"],
  [/\bexibir\b/g, "mostrar"],
  [/\barquivo\b/g, "ficheiro"],
  [/\bArquivo\b/g, "Ficheiro"],
  [/\bExcluir\b/g, "Eliminar"],
  [/\bexcluir\b/g, "eliminar"],
  [/\bExcluído\b/g, "Eliminado"],
  [/\bexcluído\b/g, "eliminado"],
  [/\bBaixar\b/g, "Transferir"],
  [/\bSalvar\b/g, "Guardar"],
  [/\bMarrom\b/g, "Castanho"],
  [/\bCinza\b/g, "Cinzento"],
  [/\bMídia\b/g, "Multimédia"],
  [/\bmídia\b/g, "multimédia"],
];

export function toEuropean(text: string): string {
  return TO_EUROPEAN.reduce((out, [from, to]) => out.replace(from, to), text);
}

function rewrite(value: unknown): unknown {
  if (typeof value === "string") return toEuropean(value);
  if (Array.isArray(value)) {
    // Aliases: both forms.
    const european = value.map((v) => (typeof v === "string" ? toEuropean(v) : rewrite(v)));
    return [...new Set([...value, ...european])];
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v)]));
  }
  return value;
}

/** BlockNote's dictionary, in European Portuguese. */
export function europeanPortuguese(brazilian: Dictionary): Dictionary {
  return rewrite(brazilian) as Dictionary;
}
