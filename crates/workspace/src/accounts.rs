//! Accounts: sign-up, sign-in with argon2id-hashed passwords, cookie sessions and personal API
//! tokens. Secrets are shown once and stored as hashes; a deleted row is a revoked credential.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hubring_protocol::api::{SignupRequest, TokenCreated, TokenView};
use hubring_protocol::{TokenId, UserId};
use hubring_store::{Credential, NewUser, StoreError, TokenPurpose, TokenUse, UserRecord, now_ms};

use crate::mail::{CONFIRM_HOURS, Email, Lang, RESET_MINUTES, compose};

use crate::secret::{new_id, new_secret, secret_hash};
use crate::validate::Checks;
use crate::{Caller, HashCost, SignupPolicy, Workspace, WorkspaceError};

/// Prefix of session secrets (the cookie's value).
const SESSION_PREFIX: &str = "hrs_";
/// Prefix of API token secrets, so a leaked one is recognisable in logs and scanners.
const TOKEN_PREFIX: &str = "hrt_";
/// Prefix of emailed address confirmation links' secrets.
const CONFIRM_PREFIX: &str = "hrc_";
/// Prefix of emailed password reset links' secrets.
const RESET_PREFIX: &str = "hrp_";

/// A new sign-in: the cookie's secret and when it expires (ms since the epoch).
#[derive(Debug, Clone)]
pub struct SessionCookie {
    pub secret: String,
    pub expires_at: i64,
}

/// What sign-up did.
#[derive(Debug, Clone)]
pub enum SignupOutcome {
    /// Created and signed in (no email: the address cannot be confirmed).
    SignedIn(Signup),
    /// An email went to the address: a link to confirm a new account, or a note to the owner
    /// of an existing one.
    ConfirmEmail,
}

/// A created account and its first session.
#[derive(Debug, Clone)]
pub struct Signup {
    pub user: UserRecord,
    pub session: SessionCookie,
}

fn argon2(cost: HashCost) -> Argon2<'static> {
    let params = Params::new(cost.memory_kib, cost.passes, 1, None)
        .expect("argon2 parameters within the algorithm's bounds");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes off the async threads: a hash takes tens of milliseconds on purpose.
async fn hash_password(cost: HashCost, password: String) -> Result<String, WorkspaceError> {
    let hashed = tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).expect("the operating system's random source");
        let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
        argon2(cost).hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|err| StoreError::Corrupt(format!("password hashing task: {err}")))?;
    hashed.map_err(|err| StoreError::Corrupt(format!("password hashing: {err}")).into())
}

/// Checks a password against a stored hash (whose own parameters are used).
async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

impl Workspace {
    /// Creates an account. On an empty instance the first account is the admin.
    ///
    /// Without email, the account is signed in at once and pending email invitations to the
    /// address become memberships (nothing can prove the address, and the README says so).
    /// With email, the answer is [`SignupOutcome::ConfirmEmail`] whether or not the address
    /// already has an account, so sign-up tells no one who has one: a new account waits for
    /// its owner to open the confirmation link, and an existing account's owner is told by
    /// email that someone tried.
    pub async fn signup(&self, req: SignupRequest) -> Result<SignupOutcome, WorkspaceError> {
        let mut checks = Checks::default();
        let email = checks.email("email", &req.email);
        checks.password("password", &req.password);
        let display_name = checks.text("display_name", &req.display_name, 1, 100);
        let language = req.language.map_or_else(
            || "en".to_owned(),
            |code| crate::people::email_language(&mut checks, code),
        );
        checks.done()?;
        if self.config.signup == SignupPolicy::InviteOnly
            && self.store.count_users().await? > 0
            && !self.store.has_email_invite(&email).await?
        {
            return Err(WorkspaceError::SignupClosed);
        }
        let password_hash = hash_password(self.config.hash_cost, req.password).await?;
        let new = NewUser {
            id: UserId(new_id()),
            email: email.clone(),
            display_name,
            password_hash,
            is_admin: false,
            language,
        };
        let created = self.store.create_user(new, true).await;
        if !self.mail_enabled() {
            let user = created.map_err(|err| match err {
                StoreError::Conflict(_) => WorkspaceError::invalid(
                    "email",
                    "email_taken",
                    "an account with this address exists",
                ),
                err => err.into(),
            })?;
            // Creating an account at the invited address is accepting what it was invited to.
            self.store.accept_email_invites(&user.id, email, None).await?;
            let session = self.start_session(&user.id).await?;
            return Ok(SignupOutcome::SignedIn(Signup { user, session }));
        }
        match created {
            Ok(user) => self.send_account_link(&user, TokenPurpose::Confirm).await?,
            Err(StoreError::Conflict(_)) => {
                let owner = self
                    .store
                    .user_by_email(&email)
                    .await?
                    .ok_or(WorkspaceError::NotFound("account"))?;
                if let (Some(signin), Some(reset)) = (self.link("/signin"), self.link("/forgot")) {
                    let email = Email::AlreadyRegistered {
                        name: &owner.display_name,
                        signin: &signin,
                        reset: &reset,
                    };
                    let body = compose(Lang::of(&owner.language), &email, None);
                    self.send_mail(&owner.email, "account", &body).await?;
                }
            }
            Err(err) => return Err(err.into()),
        }
        Ok(SignupOutcome::ConfirmEmail)
    }

    /// Emails `user` a single-use link (the newest replaces older ones of the same purpose):
    /// one that confirms their address, or one that sets a new password.
    async fn send_account_link(
        &self,
        user: &UserRecord,
        purpose: TokenPurpose,
    ) -> Result<(), WorkspaceError> {
        let (prefix, ttl_ms, page) = match purpose {
            TokenPurpose::Confirm => (CONFIRM_PREFIX, CONFIRM_HOURS * 3_600_000, "confirm"),
            TokenPurpose::Reset => (RESET_PREFIX, RESET_MINUTES * 60_000, "reset"),
        };
        let secret = new_secret(prefix);
        let expires_at = now_ms().saturating_add(ttl_ms);
        self.store
            .create_account_token(
                &user.id,
                purpose,
                user.email.clone(),
                secret_hash(&secret),
                expires_at,
            )
            .await?;
        let Some(link) = self.link(&format!("/{page}/{secret}")) else { return Ok(()) };
        let (name, link) = (user.display_name.as_str(), link.as_str());
        let email = match purpose {
            TokenPurpose::Confirm => Email::Confirm { name, link },
            TokenPurpose::Reset => Email::Reset { name, link },
        };
        let body = compose(Lang::of(&user.language), &email, None);
        self.send_mail(&user.email, "account", &body).await
    }

    /// Opens an emailed confirmation link: the address is confirmed, the invitations sent to
    /// it become memberships, and the account is signed in. A link works once.
    pub async fn confirm_email(&self, token: &str) -> Result<Signup, WorkspaceError> {
        let (user_id, email) = self.use_link(TokenPurpose::Confirm, CONFIRM_PREFIX, token).await?;
        let user =
            self.store.user_by_id(&user_id).await?.ok_or(WorkspaceError::NotFound("account"))?;
        if user.email == email {
            self.store.accept_email_invites(&user.id, email, None).await?;
        }
        let session = self.start_session(&user.id).await?;
        Ok(Signup { user, session })
    }

    /// Emails a password reset link to `email` if an account has it. The answer is the same
    /// either way; without email there is nothing to send, and the caller is told so.
    pub async fn request_reset(&self, email: &str) -> Result<(), WorkspaceError> {
        if !self.mail_enabled() {
            return Err(WorkspaceError::MailDisabled);
        }
        let mut checks = Checks::default();
        let email = checks.email("email", email);
        checks.done()?;
        if let Some(user) = self.store.user_by_email(&email).await? {
            self.send_account_link(&user, TokenPurpose::Reset).await?;
        }
        Ok(())
    }

    /// Sets a new password through an emailed reset link (which also confirms the address it
    /// was sent to). Every session ends and every token is revoked: what they opened must
    /// close. The link works once; afterwards it is [`WorkspaceError::Gone`].
    pub async fn confirm_reset(
        &self,
        token: &str,
        password: String,
    ) -> Result<Revocation, WorkspaceError> {
        let mut checks = Checks::default();
        checks.password("password", &password);
        checks.done()?;
        let hash = hash_password(self.config.hash_cost, password).await?;
        let (user_id, _) = self.use_link(TokenPurpose::Reset, RESET_PREFIX, token).await?;
        self.store.set_password(&user_id, hash, None).await?;
        Ok(Revocation::AllBut { user: user_id, keep: None })
    }

    /// Uses an emailed link once: whose it is and the address it went to.
    async fn use_link(
        &self,
        purpose: TokenPurpose,
        prefix: &str,
        token: &str,
    ) -> Result<(UserId, String), WorkspaceError> {
        if !token.starts_with(prefix) {
            return Err(WorkspaceError::NotFound("link"));
        }
        match self.store.use_account_token(purpose, secret_hash(token)).await? {
            TokenUse::Unknown => Err(WorkspaceError::NotFound("link")),
            TokenUse::Gone => Err(WorkspaceError::Gone(
                "link_used",
                "this link was used already or has expired: ask for a new one",
            )),
            TokenUse::Used { user_id, email } => Ok((user_id, email)),
        }
    }

    /// Creates an account from the command line (`hubring admin create-user`).
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        password: String,
        admin: bool,
    ) -> Result<UserRecord, WorkspaceError> {
        let mut checks = Checks::default();
        let email = checks.email("email", email);
        checks.password("password", &password);
        let display_name = checks.text("display_name", display_name, 1, 100);
        checks.done()?;
        let password_hash = hash_password(self.config.hash_cost, password).await?;
        let new = NewUser {
            id: UserId(new_id()),
            email,
            display_name,
            password_hash,
            is_admin: admin,
            language: "en".into(),
        };
        self.store.create_user(new, false).await.map_err(|err| match err {
            StoreError::Conflict(_) => {
                WorkspaceError::Conflict("email_taken", "an account with this address exists")
            }
            err => err.into(),
        })
    }

    /// Sets a new password for `email` from the command line (`hubring admin reset-password`),
    /// ends every session of the account and revokes its tokens. A server running beside the
    /// command closes their live connections within `CREDENTIAL_CHECK` (see the server's
    /// `credential_check_worker`), as it cannot be told directly.
    pub async fn reset_password(
        &self,
        email: &str,
        password: String,
    ) -> Result<(), WorkspaceError> {
        let mut checks = Checks::default();
        let email = checks.email("email", email);
        checks.password("password", &password);
        checks.done()?;
        let user =
            self.store.user_by_email(&email).await?.ok_or(WorkspaceError::NotFound("account"))?;
        let hash = hash_password(self.config.hash_cost, password).await?;
        self.store.set_password(&user.id, hash, None).await?;
        Ok(())
    }

    /// Signs in with an email and password. The same error whether the address is unknown or
    /// the password wrong, and the same work (a hash is checked either way).
    pub async fn login(
        &self,
        email: &str,
        password: String,
    ) -> Result<(UserRecord, SessionCookie), WorkspaceError> {
        let email = email.trim().to_lowercase();
        let user = self.store.user_by_email(&email).await?;
        let hash = match &user {
            Some(user) => user.password_hash.clone(),
            None => self.decoy_hash().await?,
        };
        let ok = verify_password(hash, password).await;
        let user = match user {
            Some(user) if ok => user,
            _ => return Err(WorkspaceError::BadCredentials),
        };
        // With email, an account signs in once its address is confirmed; the right password
        // earns a fresh link (the first may be lost or expired).
        if self.mail_enabled() && !user.email_confirmed {
            self.send_account_link(&user, TokenPurpose::Confirm).await?;
            return Err(WorkspaceError::Unconfirmed);
        }
        let session = self.start_session(&user.id).await?;
        Ok((user, session))
    }

    /// A hash to check a password against when the address is unknown, so that answer takes
    /// as long as a wrong password: one verification either way. Made once; making it on each
    /// such sign-in doubled its time, which told an unknown address from a known one.
    async fn decoy_hash(&self) -> Result<String, WorkspaceError> {
        let cost = self.config.hash_cost;
        let hash = self
            .decoy
            .get_or_try_init(|| hash_password(cost, "not a password anyone has".to_owned()))
            .await?;
        Ok(hash.clone())
    }

    async fn start_session(&self, user_id: &UserId) -> Result<SessionCookie, WorkspaceError> {
        let secret = new_secret(SESSION_PREFIX);
        let ttl = i64::try_from(self.config.session_ttl.as_millis()).unwrap_or(i64::MAX);
        let expires_at = now_ms().saturating_add(ttl);
        self.store.create_login(new_id(), user_id, secret_hash(&secret), expires_at).await?;
        Ok(SessionCookie { secret, expires_at })
    }

    /// The caller behind a session cookie; anonymous if it is unknown, expired or revoked.
    pub async fn session_caller(&self, secret: &str) -> Result<Caller, WorkspaceError> {
        if !secret.starts_with(SESSION_PREFIX) {
            return Ok(Caller::anonymous());
        }
        Ok(match self.store.login_user(&secret_hash(secret)).await? {
            Some((login, user)) => {
                Caller { user: Some(user), credential: Some(Credential::Login(login)) }
            }
            None => Caller::anonymous(),
        })
    }

    /// The caller behind an API token; `None` if the token is unknown or revoked.
    pub async fn token_caller(&self, secret: &str) -> Result<Option<Caller>, WorkspaceError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        Ok(self.store.token_user(&secret_hash(secret)).await?.map(|(token, user)| Caller {
            user: Some(user),
            credential: Some(Credential::Token(token)),
        }))
    }

    /// Signs the caller's session out; what it opened must close.
    pub async fn logout(&self, caller: &Caller) -> Result<Option<Revocation>, WorkspaceError> {
        if let Some(Credential::Login(login)) = &caller.credential {
            self.store.delete_login(login.clone()).await?;
        }
        Ok(caller
            .user_id()
            .zip(caller.credential.clone())
            .map(|(user, credential)| Revocation::Credential { user: user.clone(), credential }))
    }

    /// Changes the caller's password, signs out every other session and revokes every API
    /// token; what those opened must close.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: String,
        new: String,
    ) -> Result<Revocation, WorkspaceError> {
        let user = caller.signed_in()?;
        let mut checks = Checks::default();
        checks.password("new_password", &new);
        checks.done()?;
        if !verify_password(user.password_hash.clone(), current).await {
            return Err(WorkspaceError::invalid(
                "current_password",
                "wrong_password",
                "is not your password",
            ));
        }
        let hash = hash_password(self.config.hash_cost, new).await?;
        let keep = match &caller.credential {
            Some(Credential::Login(login)) => Some(login.clone()),
            _ => None,
        };
        self.store.set_password(&user.id, hash, keep.clone()).await?;
        Ok(Revocation::AllBut { user: user.id.clone(), keep: keep.map(Credential::Login) })
    }

    /// Creates a personal API token; its secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        caller: &Caller,
        name: &str,
    ) -> Result<TokenCreated, WorkspaceError> {
        let user = caller.signed_in()?;
        let mut checks = Checks::default();
        let name = checks.text("name", name, 1, 100);
        checks.done()?;
        let secret = new_secret(TOKEN_PREFIX);
        let id = TokenId(new_id());
        let record = self.store.create_token(&id, &user.id, name, secret_hash(&secret)).await?;
        Ok(TokenCreated { id, name: record.name, token: secret, created_at: record.created_at })
    }

    pub async fn list_tokens(&self, caller: &Caller) -> Result<Vec<TokenView>, WorkspaceError> {
        let user = caller.signed_in()?;
        let tokens = self.store.list_tokens(&user.id).await?;
        Ok(tokens
            .into_iter()
            .map(|t| TokenView {
                id: t.id,
                name: t.name,
                created_at: t.created_at,
                last_used_at: t.last_used_at,
            })
            .collect())
    }

    /// Revokes one of the caller's tokens.
    pub async fn revoke_token(
        &self,
        caller: &Caller,
        id: &TokenId,
    ) -> Result<Revocation, WorkspaceError> {
        let user = caller.signed_in()?;
        if self.store.delete_token(&user.id, id).await? {
            Ok(Revocation::Credential {
                user: user.id.clone(),
                credential: Credential::Token(id.clone()),
            })
        } else {
            Err(WorkspaceError::NotFound("token"))
        }
    }
}

/// Access taken away from someone's credentials: their live connections opened with them must
/// close. Returned by the calls that take it away, so the server applies it in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// One credential ended (signed out, token revoked).
    Credential { user: UserId, credential: Credential },
    /// Every credential of `user` but `keep` (a password change keeps the session that made it).
    AllBut { user: UserId, keep: Option<Credential> },
}
