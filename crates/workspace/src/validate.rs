//! Input checks: each refused field gets a message and a code, and all of them are reported
//! at once.

use std::collections::BTreeMap;

use hubring_protocol::Problem;

use crate::WorkspaceError;

/// What is wrong with each refused field, by field name: an English message, and the code and
/// numbers a client words in the person's language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, (String, Problem)>);

impl FieldErrors {
    /// One refused field.
    pub fn one(field: &str, problem: Problem, message: impl Into<String>) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(field.to_owned(), (message.into(), problem));
        Self(fields)
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// The English message of each field.
    pub fn messages(&self) -> BTreeMap<String, String> {
        self.0.iter().map(|(field, (message, _))| (field.clone(), message.clone())).collect()
    }

    /// The code of each field.
    pub fn problems(&self) -> BTreeMap<String, Problem> {
        self.0.iter().map(|(field, (_, problem))| (field.clone(), problem.clone())).collect()
    }
}

/// Collects field errors; [`Checks::done`] turns any into [`WorkspaceError::Invalid`].
#[derive(Debug, Default)]
pub(crate) struct Checks(BTreeMap<String, (String, Problem)>);

impl Checks {
    /// Refuses `field`: `code` for the client to word (see [`Problem`]), `message` in English.
    pub(crate) fn fail(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.fail_with(field, Problem::new(code), message);
    }

    pub(crate) fn fail_with(&mut self, field: &str, problem: Problem, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_insert_with(|| (message.into(), problem));
    }

    /// Trims `value` and checks it has between `min` and `max` characters.
    pub(crate) fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let value = value.trim();
        let n = value.chars().count();
        if n < min {
            if min == 1 {
                self.fail(field, "required", "must not be empty");
            } else {
                self.fail_with(
                    field,
                    Problem::new("too_short").with("min", min as u64),
                    format!("must be at least {min} characters"),
                );
            }
        } else if n > max {
            self.fail_with(
                field,
                Problem::new("too_long").with("max", max as u64),
                format!("must be at most {max} characters"),
            );
        }
        value.to_owned()
    }

    /// A plausible email address, lowercased: one `@`, something on each side, a dot in the
    /// domain, no spaces, at most 254 characters. Whether it receives mail is not ours to know.
    pub(crate) fn email(&mut self, field: &str, value: &str) -> String {
        let email = value.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if !valid {
            self.fail(field, "not_email", "must be an email address");
        }
        email
    }

    /// A password: 10 to 1024 characters, kept as given.
    pub(crate) fn password(&mut self, field: &str, value: &str) {
        let n = value.chars().count();
        if n < 10 {
            self.fail_with(
                field,
                Problem::new("too_short").with("min", 10),
                "must be at least 10 characters",
            );
        } else if n > 1024 {
            self.fail_with(
                field,
                Problem::new("too_long").with("max", 1024),
                "must be at most 1024 characters",
            );
        }
    }

    pub(crate) fn done(self) -> Result<(), WorkspaceError> {
        if self.0.is_empty() { Ok(()) } else { Err(WorkspaceError::Invalid(FieldErrors(self.0))) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let cases = [
            ("Ana@Hub.example", Some("ana@hub.example")),
            ("  ana@hub.example ", Some("ana@hub.example")),
            ("ana", None),
            ("ana@hub", None),
            ("@hub.example", None),
            ("ana@@hub.example", None),
            ("a na@hub.example", None),
            ("ana@.example", None),
        ];
        for (raw, want) in cases {
            let mut checks = Checks::default();
            let got = checks.email("email", raw);
            match want {
                Some(want) => {
                    assert_eq!(got, want);
                    assert!(checks.done().is_ok(), "{raw}");
                }
                None => assert!(checks.done().is_err(), "{raw}"),
            }
        }
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut checks = Checks::default();
        checks.text("title", "   ", 1, 10);
        checks.text("summary", &"x".repeat(11), 0, 10);
        checks.password("password", "short");
        let Err(WorkspaceError::Invalid(FieldErrors(fields))) = checks.done() else {
            panic!("expected invalid")
        };
        assert_eq!(fields.len(), 3);
        assert_eq!(fields["title"], ("must not be empty".to_owned(), Problem::new("required")));
        assert_eq!(
            fields["summary"],
            ("must be at most 10 characters".to_owned(), Problem::new("too_long").with("max", 10))
        );
        assert_eq!(fields["password"].1, Problem::new("too_short").with("min", 10));
    }
}
