//! Telling people: in-app notifications (the bell), emails through the store's outbox, and
//! each person's choice per kind. Every notice goes through [`Workspace::notify`], which
//! decides once, by the person's preferences, whether it lands in the app, in their inbox, or
//! both; callers only say what happened.
//!
//! A notice never tells anyone about what they may not see: the callers notify only people who
//! may read what it points at (checked through the same access rules as every route).

use hubring_protocol::UserId;
use hubring_protocol::api::{
    MailHealth, NotificationKind, NotificationList, NotificationPref, NotificationPrefs,
    NotificationSubject, NotificationView, NotificationsRead, NotifyChannel, SessionChange,
};
use hubring_store::UserRecord;
use serde_json::Value;

use crate::mail::{Email, Lang, MailBody, compose};
use crate::secret::{new_id, random_hex};
use crate::{Caller, Workspace, WorkspaceError};

/// Notifications listed at most.
const LIST_LIMIT: i64 = 100;
/// Characters of a comment quoted in a notice.
const EXCERPT_CHARS: usize = 200;

/// Whether the workspace sends email, and the public URL its links start with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MailSetting {
    /// No SMTP server is configured: nothing is emailed, and invitation links are shown to
    /// pass on by hand.
    #[default]
    Off,
    On {
        /// `scheme://host[:port]` with no trailing slash.
        base_url: String,
    },
}

impl Workspace {
    /// Whether emails are sent.
    pub fn mail_enabled(&self) -> bool {
        matches!(self.config.mail, MailSetting::On { .. })
    }

    /// The full URL of a web app path, when emails are sent.
    pub(crate) fn link(&self, path: &str) -> Option<String> {
        match &self.config.mail {
            MailSetting::On { base_url } => Some(format!("{base_url}{path}")),
            MailSetting::Off => None,
        }
    }

    /// Queues an email and wakes the mail worker.
    pub(crate) async fn send_mail(
        &self,
        to: &str,
        kind: &'static str,
        body: &MailBody,
    ) -> Result<(), WorkspaceError> {
        let json = serde_json::to_string(body)
            .map_err(|err| hubring_store::StoreError::Corrupt(err.to_string()))?;
        self.store.queue_mail(new_id(), to.to_owned(), kind, json).await?;
        self.mail_queued.notify_one();
        Ok(())
    }

    /// Tells `to` about something, in the app and by email as they chose. `path` is the web
    /// app page it is about.
    pub(crate) async fn notify(
        &self,
        to: &UserRecord,
        kind: NotificationKind,
        subject: NotificationSubject,
        path: &str,
    ) -> Result<(), WorkspaceError> {
        self.notify_with(to, kind, subject, path, None).await
    }

    /// [`Workspace::notify`], with a calendar file (`text/calendar`) for the email.
    pub(crate) async fn notify_with(
        &self,
        to: &UserRecord,
        kind: NotificationKind,
        subject: NotificationSubject,
        path: &str,
        calendar: Option<String>,
    ) -> Result<(), WorkspaceError> {
        let channel = self.channel(&to.id, kind).await?;
        if channel.in_app() {
            let payload = serde_json::to_string(&subject)
                .map_err(|err| hubring_store::StoreError::Corrupt(err.to_string()))?;
            self.store.add_notification(&to.id, new_id(), kind.as_str(), payload).await?;
            // No receiver (no bell open anywhere) is not an error.
            let _ = self.bell.send(to.id.clone());
        }
        if channel.by_email()
            && let Some(link) = self.link(path)
        {
            let by = subject.by.as_ref().map_or("", |p| p.display_name.as_str());
            let item = subject.item_title.as_deref().unwrap_or_default();
            let excerpt = subject.excerpt.as_deref().unwrap_or_default();
            let email = match kind {
                NotificationKind::Invitation => Email::Invitation {
                    inviter: by,
                    project: subject.project_title.as_deref().unwrap_or_default(),
                    link: &link,
                },
                NotificationKind::Mention => Email::Mention { by, item, excerpt, link: &link },
                NotificationKind::Reply => Email::Reply { by, item, excerpt, link: &link },
                NotificationKind::JoinRequest => Email::JoinRequest {
                    by,
                    hub: subject.hub_name.as_deref().unwrap_or_default(),
                    link: &link,
                },
                NotificationKind::Session => Email::Session {
                    change: subject.session_change.unwrap_or(SessionChange::Updated),
                    by,
                    title: subject.session_title.as_deref().unwrap_or_default(),
                    when: &session_when(&subject),
                    link: &link,
                },
            };
            let unsubscribe = self.unsubscribe_link(&to.id, kind).await?;
            let mut body = compose(Lang::of(&to.language), &email, unsubscribe);
            body.calendar = calendar;
            self.send_mail(&to.email, kind.as_str(), &body).await?;
        }
        Ok(())
    }

    /// The one-click link that turns off emails of `kind` for `user`.
    async fn unsubscribe_link(
        &self,
        user: &UserId,
        kind: NotificationKind,
    ) -> Result<Option<String>, WorkspaceError> {
        let secret = self.store.mail_secret(user, random_hex(24)).await?;
        Ok(self.link(&format!("/unsubscribe/{secret}/{}", kind.as_str())))
    }

    /// How `user` wants `kind`: their choice, or in the app and by email.
    async fn channel(
        &self,
        user: &UserId,
        kind: NotificationKind,
    ) -> Result<NotifyChannel, WorkspaceError> {
        Ok(channel_of(&self.store.notification_prefs(user).await?, kind))
    }

    /// The caller's newest notifications.
    pub async fn notifications(&self, caller: &Caller) -> Result<NotificationList, WorkspaceError> {
        let user = caller.signed_in()?;
        let (records, unread) = self.store.notifications(&user.id, LIST_LIMIT).await?;
        let items = records
            .into_iter()
            .filter_map(|r| {
                // A kind this version no longer knows is left out rather than failing the list.
                Some(NotificationView {
                    kind: NotificationKind::parse(&r.kind)?,
                    subject: serde_json::from_str(&r.payload).unwrap_or_default(),
                    id: r.id,
                    created_at: r.created_at,
                    read: r.read_at.is_some(),
                })
            })
            .collect();
        Ok(NotificationList { unread: u32::try_from(unread).unwrap_or(u32::MAX), items })
    }

    /// How email stands, for instance admins.
    pub async fn mail_health(&self, caller: &Caller) -> Result<MailHealth, WorkspaceError> {
        caller.signed_in()?;
        if !caller.is_admin() {
            return Err(WorkspaceError::Forbidden("instance admins only"));
        }
        let counts = self.store.outbox_counts().await?;
        Ok(MailHealth {
            enabled: self.mail_enabled(),
            waiting: counts.waiting,
            sent: counts.sent,
            failed: counts.failed,
            failed_attempts: counts.failed_attempts,
        })
    }

    /// Marks read `user`'s invitations into `project`: once they joined, there is nothing
    /// left to act on.
    pub(crate) async fn invitation_done(
        &self,
        user: &UserId,
        project: &hubring_protocol::ProjectId,
    ) -> Result<(), WorkspaceError> {
        let (records, _) = self.store.notifications(user, LIST_LIMIT).await?;
        let ids: Vec<String> = records
            .into_iter()
            .filter(|r| r.read_at.is_none() && r.kind == NotificationKind::Invitation.as_str())
            .filter(|r| {
                serde_json::from_str::<NotificationSubject>(&r.payload)
                    .is_ok_and(|s| s.project_id.as_ref() == Some(project))
            })
            .map(|r| r.id)
            .collect();
        if !ids.is_empty() {
            self.store.read_notifications(user, Some(ids)).await?;
            let _ = self.bell.send(user.clone());
        }
        Ok(())
    }

    /// How many of the caller's notifications are unread.
    pub async fn unread_notifications(&self, user: &UserId) -> Result<u32, WorkspaceError> {
        Ok(u32::try_from(self.store.unread_notifications(user).await?).unwrap_or(u32::MAX))
    }

    /// Marks some or all of the caller's notifications read.
    pub async fn read_notifications(
        &self,
        caller: &Caller,
        req: NotificationsRead,
    ) -> Result<(), WorkspaceError> {
        let user = caller.signed_in()?;
        if req.ids.as_ref().is_some_and(|ids| ids.len() > 1000) {
            return Err(WorkspaceError::invalid("ids", "too_many", "at most 1000 at once"));
        }
        if self.store.read_notifications(&user.id, req.ids).await? > 0 {
            let _ = self.bell.send(user.id.clone());
        }
        Ok(())
    }

    /// The caller's delivery choice for every kind.
    pub async fn notification_prefs(
        &self,
        caller: &Caller,
    ) -> Result<NotificationPrefs, WorkspaceError> {
        let user = caller.signed_in()?;
        let chosen = self.store.notification_prefs(&user.id).await?;
        let prefs = NotificationKind::ALL
            .into_iter()
            .map(|kind| NotificationPref { kind, channel: channel_of(&chosen, kind) })
            .collect();
        Ok(NotificationPrefs { prefs })
    }

    /// Changes the caller's choice for the kinds named.
    pub async fn set_notification_prefs(
        &self,
        caller: &Caller,
        req: NotificationPrefs,
    ) -> Result<NotificationPrefs, WorkspaceError> {
        let user = caller.signed_in()?;
        for pref in &req.prefs {
            self.store
                .set_notification_pref(&user.id, pref.kind.as_str(), pref.channel.as_str())
                .await?;
        }
        self.notification_prefs(caller).await
    }

    /// One click from an email: emails of `kind` stop (the app keeps showing them). The secret
    /// in the link stands for the person; no sign-in is needed.
    pub async fn unsubscribe(&self, secret: &str, kind: &str) -> Result<(), WorkspaceError> {
        let kind = NotificationKind::parse(kind).ok_or(WorkspaceError::NotFound("link"))?;
        if secret.len() < 16 {
            return Err(WorkspaceError::NotFound("link"));
        }
        let user = self
            .store
            .user_by_mail_secret(secret)
            .await?
            .ok_or(WorkspaceError::NotFound("link"))?;
        let next = match self.channel(&user, kind).await? {
            NotifyChannel::Both | NotifyChannel::App => NotifyChannel::App,
            NotifyChannel::Email | NotifyChannel::None => NotifyChannel::None,
        };
        self.store.set_notification_pref(&user, kind.as_str(), next.as_str()).await?;
        Ok(())
    }
}

/// The channel chosen for `kind` among a person's stored `(kind, channel)` choices; in the app
/// and by email when they chose none.
fn channel_of(chosen: &[(String, String)], kind: NotificationKind) -> NotifyChannel {
    chosen
        .iter()
        .find(|(k, _)| k == kind.as_str())
        .and_then(|(_, c)| NotifyChannel::parse(c))
        .unwrap_or(NotifyChannel::Both)
}

/// The start of a comment's text (BlockNote blocks as JSON), for a notice.
pub(crate) fn excerpt(body: &Value) -> String {
    fn walk(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => match map.get("type").and_then(Value::as_str) {
                Some("text") => {
                    out.push_str(map.get("text").and_then(Value::as_str).unwrap_or_default());
                }
                Some("mention") => {
                    let props = map.get("props");
                    out.push('@');
                    out.push_str(
                        props.and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or("?"),
                    );
                }
                kind => {
                    // A block (paragraph, heading, list item) starts a new word; a link does not.
                    if kind.is_some_and(|k| k != "link") && !out.is_empty() {
                        out.push(' ');
                    }
                    for (key, v) in map {
                        if key != "props" {
                            walk(v, out);
                        }
                    }
                }
            },
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(body, &mut out);
    let trimmed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if trimmed.chars().count() > EXCERPT_CHARS {
        format!("{}…", trimmed.chars().take(EXCERPT_CHARS).collect::<String>())
    } else {
        trimmed
    }
}

/// When a session starts, on its organiser's wall clock, with the zone named
/// (`2027-03-25 18:00 (Europe/Lisbon)`).
fn session_when(subject: &NotificationSubject) -> String {
    let (Some(at), Some(zone)) = (subject.starts_at, subject.time_zone.as_deref()) else {
        return String::new();
    };
    let Ok(tz) = jiff::tz::db().get(zone) else { return String::new() };
    match jiff::Timestamp::from_millisecond(at) {
        Ok(t) => format!("{} ({zone})", tz.to_datetime(t).strftime("%Y-%m-%d %H:%M")),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_the_comments_text_with_mentions_named() {
        let body = serde_json::json!([
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Could you check this, ", "styles": {}},
                {"type": "mention", "props": {"user": "u-ben", "name": "Ben"}},
                {"type": "text", "text": "?", "styles": {}}
            ]},
            {"type": "paragraph", "content": [{"type": "text", "text": "Thanks", "styles": {}}]}
        ]);
        assert_eq!(excerpt(&body), "Could you check this, @Ben? Thanks");
        let long = serde_json::json!([{"type": "paragraph", "content": [{"type": "text", "text": "x".repeat(500)}]}]);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
    }
}
