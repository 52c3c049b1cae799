// Languages and countries as ISO codes (ISO 639-1, ISO 3166-1 alpha-2), as the server stores
// them, shown and typed in the viewer's language with the browser's own names
// (Intl.DisplayNames). The lists are those of the server's crates (isolang 2.4's ISO 639-1
// column, celes 2.8's alpha-2 codes); a code the server keeps for something typed before codes
// ("Elvish") is shown as it was typed.

const LANGUAGES = `
  aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br
  bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et
  eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
  hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk
  kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg
  mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny
  oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se
  sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti
  tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
  yo za zh zu
`
  .trim()
  .split(/\s+/);

const COUNTRIES = `
  AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE
  BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD
  CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
  DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF
  GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU
  ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
  KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
  MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
  NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
  PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI
  SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK
  TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
  VN VU WF WS XK YE YT ZA ZM ZW
`
  .trim()
  .split(/\s+/);

type Kind = "language" | "region";

function names(kind: Kind, locale: string): Intl.DisplayNames | null {
  try {
    return new Intl.DisplayNames([locale], { type: kind, fallback: "none" });
  } catch {
    return null;
  }
}

function nameOf(kind: Kind, code: string, locale: string): string {
  try {
    return names(kind, locale)?.of(code) ?? code;
  } catch {
    // Not a code (free text kept from before codes): shown as typed.
    return code;
  }
}

export function languageName(code: string, locale: string): string {
  return /^[a-z]{2,3}$/.test(code) ? nameOf("language", code, locale) : code;
}

export function countryName(code: string, locale: string): string {
  return /^[A-Z]{2}$/.test(code) ? nameOf("region", code, locale) : code;
}

/** Every language or country with its name in `locale`, by name. */
export function options(kind: Kind, locale: string): { code: string; name: string }[] {
  const codes = kind === "language" ? LANGUAGES : COUNTRIES;
  const name = kind === "language" ? languageName : countryName;
  return codes
    .map((code) => ({ code, name: name(code, locale) }))
    .filter((o) => o.name !== o.code)
    .sort((a, b) => a.name.localeCompare(b.name, locale));
}

const fold = (s: string) =>
  s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .trim();

/** The code of what someone typed: a code, or a name in their language, in English or in the
 * language's own; what is none of these is returned as typed (the server then says so). */
function toCode(kind: Kind, typed: string, locale: string): string {
  const codes = kind === "language" ? LANGUAGES : COUNTRIES;
  const wanted = fold(typed);
  const code = codes.find((c) => c.toLowerCase() === wanted);
  if (code) return code;
  for (const lang of [locale, "en"]) {
    const found = codes.find((c) => fold(nameOf(kind, c, lang)) === wanted);
    if (found) return found;
  }
  if (kind === "language") {
    const own = codes.find((c) => fold(nameOf(kind, c, c)) === wanted);
    if (own) return own;
  }
  return typed.trim();
}

export const toLanguageCode = (typed: string, locale: string) => toCode("language", typed, locale);
export const toCountryCode = (typed: string, locale: string) => toCode("region", typed, locale);
