// The frame around every signed-in page: skip link, header with navigation, main landmark.
import { useTranslation } from "react-i18next";
import { NavLink, Outlet, useNavigate } from "react-router";
import { useSignedIn, useSignOut } from "../auth/session";
import { Bell } from "../notifications/Bell";
import { ErrorBoundary } from "./ErrorBoundary";

export function Layout() {
  const { t } = useTranslation();
  const me = useSignedIn();
  const signOut = useSignOut();
  const navigate = useNavigate();
  return (
    <>
      <a className="skip-link" href="#main">
        {t("app.skip")}
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand">
          {t("app.name")}
        </NavLink>
        <nav aria-label={t("nav.main")}>
          <ul>
            <li>
              <NavLink to="/" end>
                {t("nav.home")}
              </NavLink>
            </li>
            <li>
              <NavLink to="/people">{t("nav.people")}</NavLink>
            </li>
            <li>
              <NavLink to="/hubs">{t("nav.hubs")}</NavLink>
            </li>
            <li>
              <NavLink to="/profile">{t("nav.profile")}</NavLink>
            </li>
            <li>
              <NavLink to="/settings">{t("nav.settings")}</NavLink>
            </li>
          </ul>
        </nav>
        <div className="account">
          <Bell />
          <span className="who" title={t("nav.signedInAs", { name: me.display_name })}>
            {me.display_name}
          </span>
          <button
            type="button"
            className="link-button"
            onClick={async () => {
              await signOut();
              navigate("/signin");
            }}
          >
            {t("nav.signOut")}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary>
          <Outlet />
        </ErrorBoundary>
      </main>
    </>
  );
}
