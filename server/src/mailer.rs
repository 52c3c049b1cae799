//! The mail worker: sends what the workspace queued in the store's outbox through the SMTP
//! server (`--smtp-url`), off every request's path. An email the server refuses, or cannot be
//! reached for, is tried again after `--mail-retry-secs`, doubling up to an hour, for about
//! three days; a restart loses nothing, as the outbox is in the store. Several nodes may run
//! the worker over one PostgreSQL: a claim (a lease on the row) keeps two from sending the
//! same email at once.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hubring_store::{OutboxMail, Store, now_ms};
use hubring_workspace::mail::MailBody;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::MailConfig;

/// Emails claimed at once.
const BATCH: i64 = 20;
/// How long a claim holds a row: longer than any send takes, short enough that a node that
/// died mid-send leaves its emails to the others soon.
const LEASE_MS: i64 = 5 * 60_000;
/// Longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Attempts before an email is given up on (with the defaults, about three days).
const MAX_ATTEMPTS: i64 = 80;
/// How often the outbox is looked at with nothing queued here: another node (or `hubring`
/// run from the command line) may have queued an email.
const POLL: Duration = Duration::from_secs(30);

/// The SMTP server and the sender.
pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    retry_base: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer the configuration describes, `None` without `--smtp-url`.
    pub(crate) fn new(config: &MailConfig) -> anyhow::Result<Option<Self>> {
        let Some(url) = &config.smtp_url else { return Ok(None) };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .with_context(|| "--smtp-url must be smtp://HOST[:PORT] or smtps://USER:PASSWORD@HOST")?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = config
            .from
            .as_deref()
            .context("--smtp-url needs --public-url (the links in emails) or --mail-from")?
            .parse::<Mailbox>()
            .context("--mail-from must be ADDRESS or NAME <ADDRESS>")?;
        Ok(Some(Self { transport, from, retry_base: config.retry_base }))
    }

    fn message(&self, mail: &OutboxMail) -> anyhow::Result<Message> {
        let body: MailBody = serde_json::from_str(&mail.body).context("the queued email")?;
        let to: Mailbox = mail.to_addr.parse().context("the recipient's address")?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(body.subject)
            .date_now()
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ));
        if let Some(link) = &body.unsubscribe {
            // RFC 8058: mail clients offer one click that POSTs to the link.
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{link}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        let mut parts = MultiPart::alternative()
            .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(body.text))
            .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(body.html));
        let Some(calendar) = body.calendar else {
            return Ok(builder.multipart(parts)?);
        };
        // A session's calendar file, as calendar apps expect it: a `text/calendar` alternative
        // carrying its METHOD (shown as an invitation with its buttons), and the same file
        // attached for clients that only offer attachments (RFC 6047).
        let method = calendar
            .lines()
            .find_map(|l| l.strip_prefix("METHOD:"))
            .unwrap_or("PUBLISH")
            .trim()
            .to_owned();
        let inline = ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))?;
        parts = parts.singlepart(SinglePart::builder().header(inline).body(calendar.clone()));
        let attached = lettre::message::Attachment::new("invite.ics".into())
            .body(calendar, ContentType::parse("application/ics")?);
        Ok(builder.multipart(MultiPart::mixed().multipart(parts).singlepart(attached))?)
    }

    /// When to try an email again after its `attempts`-th failure, or `None` to give up.
    fn retry_at(&self, attempts: i64) -> Option<i64> {
        if attempts + 1 >= MAX_ATTEMPTS {
            return None;
        }
        let factor = 1u32.checked_shl(u32::try_from(attempts).unwrap_or(31)).unwrap_or(u32::MAX);
        let wait = self.retry_base.saturating_mul(factor).min(MAX_BACKOFF);
        Some(now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Sends queued emails until shutdown: at once when `queued` rings, when a retry falls due,
/// and every [`POLL`].
pub(crate) async fn mail_worker(
    store: Store,
    mailer: Arc<Mailer>,
    queued: Arc<Notify>,
    shutdown: CancellationToken,
) {
    loop {
        match store.claim_mail(BATCH, LEASE_MS).await {
            Ok(batch) if !batch.is_empty() => {
                for mail in batch {
                    send_one(&store, &mailer, &mail).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "reading the mail outbox failed"),
        }
        let wait = match store.next_mail_due().await {
            Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)),
            _ => POLL,
        }
        .clamp(Duration::from_millis(50), POLL);
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = queued.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

async fn send_one(store: &Store, mailer: &Mailer, mail: &OutboxMail) {
    let result = match mailer.message(mail) {
        Ok(message) => mailer.transport.send(message).await.map(drop).map_err(|err| {
            // A permanent refusal (5xx: no such mailbox) will not change on retry.
            let permanent = err.is_permanent();
            (anyhow::Error::from(err), permanent)
        }),
        Err(err) => Err((err, true)),
    };
    let recorded = match result {
        Ok(()) => {
            tracing::info!(id = %mail.id, kind = %mail.kind, "email sent");
            store.mail_sent(&mail.id).await
        }
        Err((err, permanent)) => {
            let retry_at = if permanent { None } else { mailer.retry_at(mail.attempts) };
            tracing::warn!(
                id = %mail.id, kind = %mail.kind, attempts = mail.attempts + 1,
                retry = retry_at.is_some(), error = %format!("{err:#}"), "email not sent"
            );
            store.mail_failed(&mail.id, format!("{err:#}"), retry_at).await
        }
    };
    if let Err(err) = recorded {
        // The lease runs out and the email is tried again: sent twice at worst, never lost.
        tracing::warn!(%err, id = %mail.id, "recording an email's outcome failed");
    }
}
