// The routes: stable, shareable URLs. Everything but signing in and up, and the pages emailed
// links open (reset, confirm, unsubscribe), needs an account;
// a signed-out visitor is sent to sign in and then back (`RequireAuth`).
import { lazy, Suspense } from "react";
import { Route, Routes } from "react-router";
import { ConfirmEmail, ForgotPassword, ResetPassword } from "../auth/EmailLinks";
import { SignIn, SignUp } from "../auth/SignIn";
import { RequireAuth } from "../auth/session";
import { PeoplePage } from "../directory/PeoplePage";
import { PersonPage } from "../directory/PersonPage";
import { ProfilePage } from "../directory/ProfilePage";
import { Home } from "../home/Home";
import { HubPage, NewHubPage } from "../hubs/HubPage";
import { HubsPage } from "../hubs/HubsPage";
import { Unsubscribe } from "../notifications/Unsubscribe";
import { InvitePage } from "../projects/InvitePage";
import { NewProjectPage } from "../projects/NewProjectPage";
import { ProjectPage } from "../projects/ProjectPage";
import { SettingsPage } from "../settings/SettingsPage";
import { Loading, NotFound } from "../ui/Status";
import { ErrorBoundary } from "./ErrorBoundary";
import { Layout } from "./Layout";

// The editor is most of the app's weight: it loads only when a document opens.
const DocumentPage = lazy(() => import("../documents/DocumentPage"));
const BoardPage = lazy(() => import("../boards/BoardPage"));
const RoomPage = lazy(() => import("../rooms/RoomPage"));
const SessionPage = lazy(() => import("../sessions/SessionPage"));

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<SignIn />} />
      <Route path="/signup" element={<SignUp />} />
      <Route path="/forgot" element={<ForgotPassword />} />
      <Route path="/reset/:token" element={<ResetPassword />} />
      <Route path="/confirm/:token" element={<ConfirmEmail />} />
      <Route path="/unsubscribe/:secret/:kind" element={<Unsubscribe />} />
      <Route
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<Home />} />
        <Route path="people" element={<PeoplePage />} />
        <Route path="people/:userId" element={<PersonPage />} />
        <Route path="profile" element={<ProfilePage />} />
        <Route path="hubs" element={<HubsPage />} />
        <Route path="hubs/new" element={<NewHubPage />} />
        <Route path="hubs/:hubId" element={<HubPage />} />
        <Route path="projects/new" element={<NewProjectPage />} />
        <Route path="projects/:projectId" element={<ProjectPage />} />
        <Route
          path="projects/:projectId/documents/:itemId"
          element={
            <ErrorBoundary>
              <Suspense fallback={<Loading />}>
                <DocumentPage />
              </Suspense>
            </ErrorBoundary>
          }
        />
        <Route
          path="projects/:projectId/boards/:itemId"
          element={
            <Suspense fallback={<Loading />}>
              <BoardPage />
            </Suspense>
          }
        />
        <Route
          path="projects/:projectId/rooms/:itemId"
          element={
            <Suspense fallback={<Loading />}>
              <RoomPage />
            </Suspense>
          }
        />
        <Route
          path="sessions/:sessionId"
          element={
            <Suspense fallback={<Loading />}>
              <SessionPage />
            </Suspense>
          }
        />
        <Route path="invite/:token" element={<InvitePage />} />
        <Route path="settings" element={<SettingsPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
