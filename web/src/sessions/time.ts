// Times of sessions: shown in the viewer's own zone, and in the organiser's when it differs.
import { currentLanguage } from "../i18n";

/** The viewer's IANA zone, as the browser knows it. */
export function myZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** `ms` as a date and time in `zone` (the viewer's by default). */
export function when(ms: number, zone?: string, style: "full" | "medium" = "full"): string {
  return new Intl.DateTimeFormat(currentLanguage(), {
    dateStyle: style,
    timeStyle: "short",
    ...(zone ? { timeZone: zone } : {}),
  }).format(ms);
}

/** Only the time of day of `ms` in `zone`. */
export function timeOfDay(ms: number, zone?: string): string {
  return new Intl.DateTimeFormat(currentLanguage(), {
    timeStyle: "short",
    ...(zone ? { timeZone: zone } : {}),
  }).format(ms);
}

/** Whether two zones show the same wall clock at `ms` (Lisbon and London in winter do). */
export function sameClock(ms: number, a: string, b: string): boolean {
  return when(ms, a) === when(ms, b);
}

/** The IANA zones the browser knows, for choosing one. */
export function zones(): string[] {
  const withList = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  return withList.supportedValuesOf?.("timeZone") ?? [myZone()];
}

/** The local day (`YYYY-MM-DD`) of `ms` in the viewer's zone: how the calendar groups. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
