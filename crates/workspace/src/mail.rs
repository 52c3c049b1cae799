//! The emails Hubring writes, in the recipient's language (English, French, Spanish, European
//! Portuguese), each as plain text and HTML. Composing is pure: the workspace queues the result
//! in the store's outbox and the server's mail worker sends it, off the request path.
//!
//! Every name that reaches a subject line (a person's, a project's) is cleaned of control
//! characters here, so no one can inject a header by naming themselves "x\r\nBcc: ...".

use serde::{Deserialize, Serialize};

/// An email as queued in the outbox (JSON), and as the mail worker sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailBody {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Where one click unsubscribes from this kind of email (`List-Unsubscribe`), for the
    /// emails one may turn off; account emails (confirmation, reset) have none.
    #[serde(default)]
    pub unsubscribe: Option<String>,
    /// An iCalendar file (with its `METHOD`) sent as a `text/calendar` part and attached, for
    /// session invitations, updates and cancellations.
    #[serde(default)]
    pub calendar: Option<String>,
}

/// A language emails are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
    Es,
    Pt,
}

impl Lang {
    /// The language of a stored code; English for anything else.
    pub fn of(code: &str) -> Self {
        match code {
            "fr" => Self::Fr,
            "es" => Self::Es,
            "pt" => Self::Pt,
            _ => Self::En,
        }
    }

    /// Whether `code` names a language emails are written in.
    pub fn known(code: &str) -> bool {
        matches!(code, "en" | "fr" | "es" | "pt")
    }
}

/// What an email says; links are whole URLs.
#[derive(Debug, Clone)]
pub enum Email<'a> {
    /// Confirm the address of a new account (or a changed address).
    Confirm { name: &'a str, link: &'a str },
    /// Someone signed up with an address that already has an account: its owner is told,
    /// and the sign-up answer said nothing.
    AlreadyRegistered { name: &'a str, signin: &'a str, reset: &'a str },
    /// A password reset link.
    Reset { name: &'a str, link: &'a str },
    /// An invitation into a project.
    Invitation { inviter: &'a str, project: &'a str, link: &'a str },
    /// A mention in a comment.
    Mention { by: &'a str, item: &'a str, excerpt: &'a str, link: &'a str },
    /// A reply in a thread.
    Reply { by: &'a str, item: &'a str, excerpt: &'a str, link: &'a str },
    /// A request to join a hub, to its managers.
    JoinRequest { by: &'a str, hub: &'a str, link: &'a str },
    /// A session one is invited to: the invitation, a change, a cancellation, or a place freed
    /// from the waiting list. `when` is its (next) start with the zone named.
    Session {
        change: hubring_protocol::api::SessionChange,
        by: &'a str,
        title: &'a str,
        when: &'a str,
        link: &'a str,
    },
}

/// Hours a confirmation link works.
pub const CONFIRM_HOURS: i64 = 48;
/// Minutes a password reset link works.
pub const RESET_MINUTES: i64 = 60;

/// Writes `email` in `lang`; `unsubscribe` is the one-click link of its kind, if it has one.
pub fn compose(lang: Lang, email: &Email<'_>, unsubscribe: Option<String>) -> MailBody {
    let parts = words(lang, email);
    let mut text = String::new();
    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;\
         color:#1f2937;max-width:36rem\">",
    );
    for paragraph in &parts.paragraphs {
        text.push_str(paragraph);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(paragraph)));
    }
    if let Some(quote) = parts.quote.filter(|q| !q.is_empty()) {
        text.push_str(&format!("> {}\n\n", quote.replace('\n', "\n> ")));
        html.push_str(&format!(
            "<blockquote style=\"border-left:3px solid #d1d5db;margin:0;padding-left:1rem\">{}\
             </blockquote>",
            escape(quote)
        ));
    }
    for (label, link) in &parts.actions {
        text.push_str(&format!("{label}:\n{link}\n\n"));
        html.push_str(&format!(
            "<p><a href=\"{}\" style=\"background:#4338ca;color:#fff;padding:.5rem 1rem;\
             border-radius:6px;text-decoration:none;display:inline-block\">{}</a></p>",
            escape(link),
            escape(label)
        ));
    }
    for note in &parts.notes {
        text.push_str(note);
        text.push_str("\n\n");
        html.push_str(&format!("<p style=\"color:#6b7280;font-size:.9em\">{}</p>", escape(note)));
    }
    if let Some(link) = &unsubscribe {
        let label = match lang {
            Lang::En => "Stop these emails",
            Lang::Fr => "Ne plus recevoir ces emails",
            Lang::Es => "Dejar de recibir estos correos",
            Lang::Pt => "Deixar de receber estes emails",
        };
        text.push_str(&format!("-- \n{label}: {link}\n"));
        html.push_str(&format!(
            "<hr><p style=\"color:#6b7280;font-size:.85em\"><a href=\"{}\">{}</a></p>",
            escape(link),
            escape(label)
        ));
    }
    html.push_str("</body></html>");
    MailBody { subject: one_line(&parts.subject), text, html, unsubscribe, calendar: None }
}

struct Words<'a> {
    subject: String,
    paragraphs: Vec<String>,
    quote: Option<&'a str>,
    actions: Vec<(String, &'a str)>,
    notes: Vec<String>,
}

fn words<'a>(lang: Lang, email: &Email<'a>) -> Words<'a> {
    let hello = |name: &str| match lang {
        Lang::En => format!("Hello {},", one_line(name)),
        Lang::Fr => format!("Bonjour {},", one_line(name)),
        Lang::Es => format!("Hola, {}:", one_line(name)),
        Lang::Pt => format!("Olá {},", one_line(name)),
    };
    let w = |subject: String, paragraphs: Vec<String>, actions: Vec<(String, &'a str)>| Words {
        subject,
        paragraphs,
        quote: None,
        actions,
        notes: Vec::new(),
    };
    match *email {
        Email::Confirm { name, link } => {
            let (subject, body, action, note) = match lang {
                Lang::En => (
                    "Confirm your address on Hubring",
                    "Open the link below to confirm your address and sign in.",
                    "Confirm my address",
                    format!(
                        "The link works once, for {CONFIRM_HOURS} hours. If you did not sign up, ignore this email."
                    ),
                ),
                Lang::Fr => (
                    "Confirmez votre adresse sur Hubring",
                    "Ouvrez le lien ci-dessous pour confirmer votre adresse et vous connecter.",
                    "Confirmer mon adresse",
                    format!(
                        "Le lien fonctionne une fois, pendant {CONFIRM_HOURS} heures. Si vous ne vous êtes pas inscrit, ignorez cet email."
                    ),
                ),
                Lang::Es => (
                    "Confirma tu dirección en Hubring",
                    "Abre el enlace de abajo para confirmar tu dirección e iniciar sesión.",
                    "Confirmar mi dirección",
                    format!(
                        "El enlace funciona una vez, durante {CONFIRM_HOURS} horas. Si no te registraste, ignora este correo."
                    ),
                ),
                Lang::Pt => (
                    "Confirme o seu endereço no Hubring",
                    "Abra a ligação abaixo para confirmar o seu endereço e iniciar sessão.",
                    "Confirmar o meu endereço",
                    format!(
                        "A ligação funciona uma vez, durante {CONFIRM_HOURS} horas. Se não se registou, ignore este email."
                    ),
                ),
            };
            let mut out =
                w(subject.into(), vec![hello(name), body.into()], vec![(action.into(), link)]);
            out.notes.push(note);
            out
        }
        Email::AlreadyRegistered { name, signin, reset } => {
            let (subject, body, a1, a2, note) = match lang {
                Lang::En => (
                    "Someone tried to sign up with your address",
                    "Someone (perhaps you) tried to create a Hubring account with this address, which already has one. No new account was made.",
                    "Sign in",
                    "Forgot your password? Choose a new one",
                    "If it was not you, you need do nothing.",
                ),
                Lang::Fr => (
                    "Quelqu\u{2019}un a tenté de s\u{2019}inscrire avec votre adresse",
                    "Quelqu\u{2019}un (vous, peut-être) a tenté de créer un compte Hubring avec cette adresse, qui en a déjà un. Aucun compte n\u{2019}a été créé.",
                    "Se connecter",
                    "Mot de passe oublié\u{202F}? En choisir un nouveau",
                    "Si ce n\u{2019}était pas vous, vous n\u{2019}avez rien à faire.",
                ),
                Lang::Es => (
                    "Alguien intentó registrarse con tu dirección",
                    "Alguien (quizá tú) intentó crear una cuenta de Hubring con esta dirección, que ya tiene una. No se creó ninguna cuenta nueva.",
                    "Iniciar sesión",
                    "¿Olvidaste tu contraseña? Elige una nueva",
                    "Si no fuiste tú, no tienes que hacer nada.",
                ),
                Lang::Pt => (
                    "Alguém tentou registar-se com o seu endereço",
                    "Alguém (talvez você) tentou criar uma conta Hubring com este endereço, que já tem uma. Nenhuma conta nova foi criada.",
                    "Iniciar sessão",
                    "Esqueceu-se da palavra-passe? Escolha uma nova",
                    "Se não foi você, não precisa de fazer nada.",
                ),
            };
            let mut out = w(
                subject.into(),
                vec![hello(name), body.into()],
                vec![(a1.into(), signin), (a2.into(), reset)],
            );
            out.notes.push(note.into());
            out
        }
        Email::Reset { name, link } => {
            let (subject, body, action, note) = match lang {
                Lang::En => (
                    "Choose a new Hubring password",
                    "Open the link below to choose a new password.",
                    "Choose a new password",
                    format!(
                        "The link works once, for {RESET_MINUTES} minutes. If you did not ask for it, ignore this email: your password stays as it is."
                    ),
                ),
                Lang::Fr => (
                    "Choisissez un nouveau mot de passe Hubring",
                    "Ouvrez le lien ci-dessous pour choisir un nouveau mot de passe.",
                    "Choisir un nouveau mot de passe",
                    format!(
                        "Le lien fonctionne une fois, pendant {RESET_MINUTES} minutes. Si vous ne l\u{2019}avez pas demandé, ignorez cet email\u{202F}: votre mot de passe reste le même."
                    ),
                ),
                Lang::Es => (
                    "Elige una nueva contraseña de Hubring",
                    "Abre el enlace de abajo para elegir una nueva contraseña.",
                    "Elegir una nueva contraseña",
                    format!(
                        "El enlace funciona una vez, durante {RESET_MINUTES} minutos. Si no lo pediste, ignora este correo: tu contraseña no cambia."
                    ),
                ),
                Lang::Pt => (
                    "Escolha uma nova palavra-passe do Hubring",
                    "Abra a ligação abaixo para escolher uma nova palavra-passe.",
                    "Escolher uma nova palavra-passe",
                    format!(
                        "A ligação funciona uma vez, durante {RESET_MINUTES} minutos. Se não a pediu, ignore este email: a sua palavra-passe mantém-se."
                    ),
                ),
            };
            let mut out =
                w(subject.into(), vec![hello(name), body.into()], vec![(action.into(), link)]);
            out.notes.push(note);
            out
        }
        Email::Invitation { inviter, project, link } => {
            let (inviter, project) = (one_line(inviter), one_line(project));
            let (subject, body, action) = match lang {
                Lang::En => (
                    format!("{inviter} invited you to \u{201C}{project}\u{201D} on Hubring"),
                    format!(
                        "{inviter} invited you to work with them on the project \u{201C}{project}\u{201D}. Open the invitation to join; if you have no account yet, create one with this address first."
                    ),
                    "Open the invitation",
                ),
                Lang::Fr => (
                    format!(
                        "{inviter} vous invite au projet «\u{202F}{project}\u{202F}» sur Hubring"
                    ),
                    format!(
                        "{inviter} vous invite à travailler avec elle ou lui sur le projet «\u{202F}{project}\u{202F}». Ouvrez l\u{2019}invitation pour le rejoindre\u{202F}; si vous n\u{2019}avez pas encore de compte, créez-en un avec cette adresse."
                    ),
                    "Ouvrir l\u{2019}invitation",
                ),
                Lang::Es => (
                    format!("{inviter} te invitó a «{project}» en Hubring"),
                    format!(
                        "{inviter} te invitó a trabajar en el proyecto «{project}». Abre la invitación para unirte; si aún no tienes cuenta, crea una con esta dirección."
                    ),
                    "Abrir la invitación",
                ),
                Lang::Pt => (
                    format!("{inviter} convidou-o para «{project}» no Hubring"),
                    format!(
                        "{inviter} convidou-o para trabalhar no projeto «{project}». Abra o convite para aderir; se ainda não tem conta, crie uma com este endereço."
                    ),
                    "Abrir o convite",
                ),
            };
            w(subject, vec![body], vec![(action.into(), link)])
        }
        Email::Mention { by, item, excerpt, link } | Email::Reply { by, item, excerpt, link } => {
            let (by, item) = (one_line(by), one_line(item));
            let mention = matches!(email, Email::Mention { .. });
            let (subject, action) = match (lang, mention) {
                (Lang::En, true) => {
                    (format!("{by} mentioned you in \u{201C}{item}\u{201D}"), "Open the comment")
                }
                (Lang::En, false) => {
                    (format!("{by} replied in \u{201C}{item}\u{201D}"), "Open the thread")
                }
                (Lang::Fr, true) => (
                    format!("{by} vous a mentionné dans «\u{202F}{item}\u{202F}»"),
                    "Ouvrir le commentaire",
                ),
                (Lang::Fr, false) => (
                    format!("{by} a répondu dans «\u{202F}{item}\u{202F}»"),
                    "Ouvrir la discussion",
                ),
                (Lang::Es, true) => {
                    (format!("{by} te mencionó en «{item}»"), "Abrir el comentario")
                }
                (Lang::Es, false) => (format!("{by} respondió en «{item}»"), "Abrir el hilo"),
                (Lang::Pt, true) => (format!("{by} mencionou-o em «{item}»"), "Abrir o comentário"),
                (Lang::Pt, false) => (format!("{by} respondeu em «{item}»"), "Abrir a conversa"),
            };
            let mut out = w(subject.clone(), vec![subject], vec![(action.into(), link)]);
            out.quote = Some(excerpt);
            out
        }
        Email::JoinRequest { by, hub, link } => {
            let (by, hub) = (one_line(by), one_line(hub));
            let (subject, action) = match lang {
                Lang::En => (format!("{by} asks to join {hub}"), "See the request"),
                Lang::Fr => (format!("{by} demande à rejoindre {hub}"), "Voir la demande"),
                Lang::Es => (format!("{by} pide unirse a {hub}"), "Ver la solicitud"),
                Lang::Pt => (format!("{by} pede para aderir a {hub}"), "Ver o pedido"),
            };
            w(subject.clone(), vec![subject], vec![(action.into(), link)])
        }
        Email::Session { change, by, title, when, link } => {
            use hubring_protocol::api::SessionChange as C;
            let (by, title) = (one_line(by), one_line(title));
            let (subject, body, action) = match (lang, change) {
                (Lang::En, C::Invited) => (
                    format!("Invitation: {title}, {when}"),
                    format!("{by} invites you to {title}, {when}. Say whether you are coming."),
                    "Answer and see the agenda",
                ),
                (Lang::En, C::Updated) => (
                    format!("Changed: {title}, {when}"),
                    format!("{by} changed {title}. It is now {when}."),
                    "See the session",
                ),
                (Lang::En, C::Cancelled) => (
                    format!("Cancelled: {title}"),
                    format!("{by} cancelled {title} ({when})."),
                    "See the project",
                ),
                (Lang::En, C::Promoted) => (
                    format!("A place for you: {title}, {when}"),
                    format!("A place freed up: you are now going to {title}, {when}."),
                    "See the session",
                ),
                (Lang::Fr, C::Invited) => (
                    format!("Invitation\u{202f}: {title}, {when}"),
                    format!("{by} vous invite à {title}, {when}. Dites si vous venez."),
                    "Répondre et voir le programme",
                ),
                (Lang::Fr, C::Updated) => (
                    format!("Modifiée\u{202f}: {title}, {when}"),
                    format!("{by} a modifié {title}. Elle a lieu désormais {when}."),
                    "Voir la session",
                ),
                (Lang::Fr, C::Cancelled) => (
                    format!("Annulée\u{202f}: {title}"),
                    format!("{by} a annulé {title} ({when})."),
                    "Voir le projet",
                ),
                (Lang::Fr, C::Promoted) => (
                    format!("Une place pour vous\u{202f}: {title}, {when}"),
                    format!(
                        "Une place s\u{2019}est libérée\u{202f}: vous participez à {title}, {when}."
                    ),
                    "Voir la session",
                ),
                (Lang::Es, C::Invited) => (
                    format!("Invitación: {title}, {when}"),
                    format!("{by} te invita a {title}, {when}. Di si vienes."),
                    "Responder y ver el programa",
                ),
                (Lang::Es, C::Updated) => (
                    format!("Cambio: {title}, {when}"),
                    format!("{by} ha cambiado {title}. Ahora es {when}."),
                    "Ver la sesión",
                ),
                (Lang::Es, C::Cancelled) => (
                    format!("Cancelada: {title}"),
                    format!("{by} ha cancelado {title} ({when})."),
                    "Ver el proyecto",
                ),
                (Lang::Es, C::Promoted) => (
                    format!("Una plaza para ti: {title}, {when}"),
                    format!("Se ha liberado una plaza: ya vas a {title}, {when}."),
                    "Ver la sesión",
                ),
                (Lang::Pt, C::Invited) => (
                    format!("Convite: {title}, {when}"),
                    format!("{by} convida-o para {title}, {when}. Diga se vem."),
                    "Responder e ver o programa",
                ),
                (Lang::Pt, C::Updated) => (
                    format!("Alterada: {title}, {when}"),
                    format!("{by} alterou {title}. Passa a ser {when}."),
                    "Ver a sessão",
                ),
                (Lang::Pt, C::Cancelled) => (
                    format!("Cancelada: {title}"),
                    format!("{by} cancelou {title} ({when})."),
                    "Ver o projeto",
                ),
                (Lang::Pt, C::Promoted) => (
                    format!("Um lugar para si: {title}, {when}"),
                    format!("Libertou-se um lugar: vai a {title}, {when}."),
                    "Ver a sessão",
                ),
                (Lang::En, C::Reminder) => (
                    format!("Soon: {title}, {when}"),
                    format!("{title} starts {when}. The room opens a few minutes before."),
                    "Open the session",
                ),
                (Lang::Fr, C::Reminder) => (
                    format!("Bientôt\u{202f}: {title}, {when}"),
                    format!("{title} commence {when}. La salle ouvre quelques minutes avant."),
                    "Ouvrir la session",
                ),
                (Lang::Es, C::Reminder) => (
                    format!("Pronto: {title}, {when}"),
                    format!("{title} empieza {when}. La sala abre unos minutos antes."),
                    "Abrir la sesión",
                ),
                (Lang::Pt, C::Reminder) => (
                    format!("Em breve: {title}, {when}"),
                    format!("{title} começa {when}. A sala abre alguns minutos antes."),
                    "Abrir a sessão",
                ),
            };
            w(subject, vec![body], vec![(action.into(), link)])
        }
    }
}

/// A name or title on one line: control characters (CR, LF, tabs...) become spaces, so a
/// subject line cannot be split into headers.
pub fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

/// HTML text escaping: the five characters that matter in text and attribute values. Written
/// here rather than taken from a crate: it is the whole of what the emails need.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_cannot_inject_a_header_or_markup() {
        let mail = compose(
            Lang::En,
            &Email::Invitation {
                inviter: "Eve\r\nBcc: all@example.org",
                project: "<script>x</script>",
                link: "https://hub.example/invite/t",
            },
            None,
        );
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
        assert!(mail.subject.starts_with("Eve  Bcc: all@example.org invited you"));
        assert!(!mail.html.contains("<script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
        assert!(mail.text.contains("https://hub.example/invite/t"));
    }

    #[test]
    fn every_email_is_written_in_every_language() {
        let link = "https://hub.example/x";
        let emails = [
            Email::Confirm { name: "Ana", link },
            Email::AlreadyRegistered { name: "Ana", signin: link, reset: link },
            Email::Reset { name: "Ana", link },
            Email::Invitation { inviter: "Ana", project: "P", link },
            Email::Mention { by: "Ana", item: "Doc", excerpt: "hi", link },
            Email::Reply { by: "Ana", item: "Doc", excerpt: "hi", link },
            Email::JoinRequest { by: "Ana", hub: "Porto", link },
        ];
        for email in &emails {
            let subjects: Vec<String> = [Lang::En, Lang::Fr, Lang::Es, Lang::Pt]
                .into_iter()
                .map(|lang| compose(lang, email, Some(link.into())).subject)
                .collect();
            for (i, a) in subjects.iter().enumerate() {
                assert!(!a.is_empty());
                for b in &subjects[i + 1..] {
                    assert_ne!(a, b, "{email:?} is not translated");
                }
            }
        }
    }
}
