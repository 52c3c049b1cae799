//! A client of `/api/v1` as a browser is one: a cookie jar for the session, and the server's own
//! `Origin` on every request (what a page served by the server sends).

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::TestServer;

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery";

/// What `GET /me` answers a script holding `token` (200 while the token is valid).
pub async fn token_status(server: &TestServer, token: &str) -> anyhow::Result<StatusCode> {
    let reply =
        reqwest::Client::new().get(server.http_url("/api/v1/me")).bearer_auth(token).send().await?;
    Ok(reply.status())
}

/// One signed-in (or anonymous) browser.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    origin: String,
    /// The account's id once signed up or in.
    pub user_id: Option<String>,
}

/// A response: its status and JSON body (`Null` when there is none).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiClient {
    /// A browser with no session.
    pub fn anonymous(server: &TestServer) -> Self {
        Self::anonymous_from(server, None)
    }

    /// A browser with no session whose connections come from `source` (another loopback
    /// address, such as 127.0.0.7, stands for another client address).
    pub fn anonymous_from(server: &TestServer, source: Option<std::net::IpAddr>) -> Self {
        Self::anonymous_at(server.addr, source)
    }

    /// A browser with no session talking to the server (or load balancer) at `addr`.
    pub fn anonymous_at(addr: std::net::SocketAddr, source: Option<std::net::IpAddr>) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .local_address(source)
            .build()
            .expect("http client");
        let origin = format!("http://{addr}");
        Self { http, base: format!("{origin}/api/v1"), origin, user_id: None }
    }

    /// Signs up `email` (named after its local part) and keeps the session.
    pub async fn signup(server: &TestServer, email: &str) -> anyhow::Result<Self> {
        Self::signup_at(server.addr, email).await
    }

    /// [`ApiClient::signup`] on the server (or load balancer) at `addr`.
    pub async fn signup_at(addr: std::net::SocketAddr, email: &str) -> anyhow::Result<Self> {
        let mut client = Self::anonymous_at(addr, None);
        let name = email.split('@').next().unwrap_or(email);
        let reply = client
            .send(
                Method::POST,
                "/auth/signup",
                Some(
                    serde_json::json!({"email": email, "password": PASSWORD, "display_name": name}),
                ),
            )
            .await?;
        anyhow::ensure!(reply.status == StatusCode::CREATED, "signup {email}: {reply:?}");
        client.user_id = reply.body["id"].as_str().map(str::to_owned);
        Ok(client)
    }

    /// Signs in to an existing account (made with [`ApiClient::signup`], so with [`PASSWORD`]).
    pub async fn signin(server: &TestServer, email: &str) -> anyhow::Result<Self> {
        let mut client = Self::anonymous(server);
        let reply = client
            .send(
                Method::POST,
                "/auth/login",
                Some(serde_json::json!({"email": email, "password": PASSWORD})),
            )
            .await?;
        anyhow::ensure!(reply.status.is_success(), "signin {email}: {reply:?}");
        client.user_id = reply.body["id"].as_str().map(str::to_owned);
        Ok(client)
    }

    /// The account's id.
    pub fn id(&self) -> &str {
        self.user_id.as_deref().expect("a signed-in client")
    }

    /// Sends a request with an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Reply> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("origin", &self.origin);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? };
        Ok(Reply { status, body })
    }

    /// Sends raw bytes (an upload) with their content type.
    pub async fn upload(&self, path: &str, bytes: Vec<u8>, mime: &str) -> anyhow::Result<Reply> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("origin", &self.origin)
            .header("content-type", mime)
            .body(bytes)
            .send()
            .await?;
        let status = resp.status();
        let text = resp.text().await?;
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? };
        Ok(Reply { status, body })
    }

    /// A GET answered with anything (not only JSON), as the raw response.
    pub async fn get_raw(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<reqwest::Response> {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        Ok(req.send().await?)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Reply> {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> anyhow::Result<Reply> {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Reply> {
        self.send(Method::DELETE, path, None).await
    }

    /// A new API token's secret.
    /// Accepts every pending invitation by email (as the person does in the app) and returns
    /// how many there were.
    pub async fn accept_invites(&self) -> anyhow::Result<usize> {
        let reply = self.get("/me/invites").await?;
        anyhow::ensure!(reply.status == StatusCode::OK, "invites: {reply:?}");
        let invites = reply.body.as_array().cloned().unwrap_or_default();
        for invite in &invites {
            let id = invite["id"].as_str().unwrap_or_default();
            let accepted = self.post(&format!("/me/invites/{id}/accept"), Value::Null).await?;
            anyhow::ensure!(accepted.status == StatusCode::OK, "accept {id}: {accepted:?}");
        }
        Ok(invites.len())
    }

    pub async fn token(&self) -> anyhow::Result<String> {
        let reply = self.post("/tokens", serde_json::json!({"name": "tests"})).await?;
        anyhow::ensure!(reply.status == StatusCode::CREATED, "token: {reply:?}");
        Ok(reply.body["token"].as_str().unwrap_or_default().to_owned())
    }
}
