// Loading, failure and "not found" states, the same on every screen.
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { ApiError } from "../api/client";

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="status" role="status" aria-live="polite">
      {t("app.loading")}
    </p>
  );
}

/** An error's numbers as its wording quotes them: sizes in megabytes, pixels in millions. */
function sized(params: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { ...params };
  if (params.limit !== undefined) out.limit_mb = Math.floor(params.limit / (1024 * 1024));
  if (params.max_pixels !== undefined)
    out.max_megapixels = Math.floor(params.max_pixels / 1_000_000);
  return out;
}

/** The message to show for a failed call, in the user's language where we know the case. */
export function useErrorMessage() {
  const { t } = useTranslation();
  return (error: unknown): string => {
    if (error instanceof ApiError) {
      if (error.code === "network") return t("app.networkError");
      if (error.code === "bad_credentials") return t("auth.badCredentials");
      if (error.code === "signup_closed") return t("auth.signupClosed");
      if (error.status === 429) return t("auth.tooMany");
      if (error.status === 422 && Object.keys(error.fields).length > 0) return t("form.invalid");
      // Worded from the code where this client knows it; the server's English otherwise.
      return t(`error.${error.code}`, { ...sized(error.params), defaultValue: error.message });
    }
    return error instanceof Error ? error.message : String(error);
  };
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const message = useErrorMessage();
  if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
    return <NotFound />;
  }
  return (
    <div className="notice notice-error" role="alert">
      <p>{message(error)}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t("app.retry")}
        </button>
      )}
    </div>
  );
}

export function NotFound() {
  const { t } = useTranslation();
  return (
    <div className="notice" role="alert">
      <p>{t("app.notFound")}</p>
      <Link to="/">{t("app.backHome")}</Link>
    </div>
  );
}

/** A short message about the last action, announced to screen readers. */
export function Flash({ message, tone = "ok" }: { message: string | null; tone?: "ok" | "error" }) {
  if (!message) return null;
  return (
    <p className={`notice notice-${tone}`} role={tone === "error" ? "alert" : "status"}>
      {message}
    </p>
  );
}
