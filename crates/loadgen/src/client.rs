//! One connection to a y-websocket-compatible server, in either of the two framings in use.
//!
//! y-websocket (Hubring, `@y/websocket-server`, y-sweet) sends one y-protocols message per
//! binary frame. Hocuspocus multiplexes documents over one socket: every message starts with
//! the document name (a lib0 varString), answers sync step 1 with its own `SyncReply` type, and
//! expects an auth message before anything else (Hocuspocus `MessageType`, `AuthMessageType`).
//! This module owns the framing only; what to send and how to measure belongs to the modes.

use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::sync::protocol::{MSG_SYNC, MSG_SYNC_STEP_1, MSG_SYNC_STEP_2, MSG_SYNC_UPDATE};
use yrs::updates::encoder::{Encode, Encoder, EncoderV1};
use yrs::{ReadTxn, StateVector, Transact};

/// How messages are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// One y-protocols message per frame, the document in the URL.
    YWebsocket,
    /// Every message prefixed with the document name; auth first.
    Hocuspocus,
}

/// Where and how to connect: a URL template with `{doc}` and a dialect.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub dialect: Dialect,
}

impl Target {
    pub fn url_for(&self, doc: &str) -> String {
        self.url.replace("{doc}", doc)
    }
}

/// Hocuspocus message types that differ from y-websocket's.
mod hocuspocus {
    pub(super) const MSG_AUTH: u32 = 2;
    pub(super) const MSG_SYNC_REPLY: u32 = 4;
    pub(super) const AUTH_TOKEN: u32 = 0;
}

/// A decoded server message, borrowing from its frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    SyncStep1(&'a [u8]),
    SyncStep2(&'a [u8]),
    Update(&'a [u8]),
    /// Awareness, auth, save acknowledgements and anything else this client does not act on.
    Other,
}

/// Kept small: the generator holds thousands of these and reads small frames.
const READ_BUFFER: usize = 16 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Client {
    ws: Ws,
    dialect: Dialect,
    doc: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("doc", &self.doc).field("dialect", &self.dialect).finish()
    }
}

/// The receiving half of a split [`Client`]; its users only drain it, so it does not decode.
pub struct Receiver {
    stream: SplitStream<Ws>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl Receiver {
    pub async fn next_frame(&mut self) -> anyhow::Result<Option<Bytes>> {
        next_binary(&mut self.stream).await
    }
}

/// The sending half of a split [`Client`].
pub struct Sender {
    sink: SplitSink<Ws, Message>,
    dialect: Dialect,
    doc: String,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").field("doc", &self.doc).finish()
    }
}

impl Sender {
    /// Queues an update without flushing; [`Sender::flush`] sends what is queued.
    pub async fn feed_update(&mut self, update: &[u8]) -> anyhow::Result<()> {
        let frame = sync_message(self.dialect, &self.doc, MSG_SYNC_UPDATE, update);
        self.sink.feed(Message::Binary(frame.into())).await.context("sending")
    }

    pub async fn flush(&mut self) -> anyhow::Result<()> {
        self.sink.flush().await.context("sending")
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.sink.close()).await;
    }
}

async fn next_binary(
    stream: &mut (impl futures_util::Stream<Item = Result<Message, tungstenite::Error>> + Unpin),
) -> anyhow::Result<Option<Bytes>> {
    loop {
        match stream.next().await {
            Some(Ok(Message::Binary(frame))) => return Ok(Some(frame)),
            Some(Ok(Message::Close(_))) | None => return Ok(None),
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err).context("receiving"),
        }
    }
}

fn sync_message(dialect: Dialect, doc: &str, kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut enc = EncoderV1::new();
    if dialect == Dialect::Hocuspocus {
        enc.write_string(doc);
    }
    enc.write_var(MSG_SYNC);
    enc.write_var(kind);
    enc.write_buf(payload);
    enc.to_vec()
}

impl Client {
    /// Opens the websocket (Nagle off, as browsers do) and, for Hocuspocus, authenticates.
    pub async fn connect(target: &Target, doc: &str) -> anyhow::Result<Self> {
        let url = target.url_for(doc);
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
        let connect = tokio_tungstenite::connect_async_with_config(&url, Some(config), true);
        let (ws, _) = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .with_context(|| format!("connecting to {url} timed out"))?
            .with_context(|| format!("connecting to {url}"))?;
        let mut client = Self { ws, dialect: target.dialect, doc: doc.to_owned() };
        if client.dialect == Dialect::Hocuspocus {
            let mut enc = client.encoder();
            enc.write_var(hocuspocus::MSG_AUTH);
            enc.write_var(hocuspocus::AUTH_TOKEN);
            enc.write_string("");
            client.send_raw(enc.to_vec()).await?;
        }
        Ok(client)
    }

    fn encoder(&self) -> EncoderV1 {
        let mut enc = EncoderV1::new();
        if self.dialect == Dialect::Hocuspocus {
            enc.write_string(&self.doc);
        }
        enc
    }

    fn sync_message(&self, kind: u8, payload: &[u8]) -> Vec<u8> {
        sync_message(self.dialect, &self.doc, kind, payload)
    }

    /// Splits into halves that can be driven from two tasks.
    pub fn split(self) -> (Sender, Receiver) {
        let (sink, stream) = self.ws.split();
        (Sender { sink, dialect: self.dialect, doc: self.doc }, Receiver { stream })
    }

    async fn send_raw(&mut self, frame: Vec<u8>) -> anyhow::Result<()> {
        self.ws.send(Message::Binary(frame.into())).await.context("sending")
    }

    pub async fn send_update(&mut self, update: &[u8]) -> anyhow::Result<()> {
        let frame = self.sync_message(MSG_SYNC_UPDATE, update);
        self.send_raw(frame).await
    }

    pub async fn send_step1(&mut self, sv: &StateVector) -> anyhow::Result<()> {
        let frame = self.sync_message(MSG_SYNC_STEP_1, &sv.encode_v1());
        self.send_raw(frame).await
    }

    pub async fn send_step2(&mut self, update: &[u8]) -> anyhow::Result<()> {
        let frame = self.sync_message(MSG_SYNC_STEP_2, update);
        self.send_raw(frame).await
    }

    /// The next binary frame; `None` once the server closed the connection. Control frames are
    /// answered by tungstenite while this is polled.
    pub async fn next_frame(&mut self) -> anyhow::Result<Option<Bytes>> {
        next_binary(&mut self.ws).await
    }

    /// Syncs with the server: sends step 1, answers the server's step 1 from `local`, and returns
    /// the server's step 2 (the document as the server holds it).
    pub async fn sync(&mut self, local: &yrs::Doc) -> anyhow::Result<Bytes> {
        let sv = local.transact().state_vector();
        self.send_step1(&sv).await?;
        loop {
            let Some(frame) = self.next_frame().await? else {
                bail!("server closed the connection before syncing")
            };
            match self.parse(&frame)? {
                Incoming::SyncStep2(update) => return Ok(frame.slice_ref(update)),
                Incoming::SyncStep1(remote_sv) => {
                    let remote_sv =
                        <StateVector as yrs::updates::decoder::Decode>::decode_v1(remote_sv)
                            .context("server's state vector")?;
                    let diff = local.transact().encode_state_as_update_v1(&remote_sv);
                    self.send_step2(&diff).await?;
                }
                Incoming::Update(_) | Incoming::Other => {}
            }
        }
    }

    /// Decodes one server frame.
    pub fn parse<'a>(&self, frame: &'a [u8]) -> anyhow::Result<Incoming<'a>> {
        parse(self.dialect, frame)
    }

    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.ws.close(None)).await;
    }
}

/// Decodes one server frame of `dialect`.
pub fn parse(dialect: Dialect, frame: &[u8]) -> anyhow::Result<Incoming<'_>> {
    let mut cur = Cursor::new(frame);
    if dialect == Dialect::Hocuspocus {
        cur.read_string().context("document name")?;
    }
    let kind: u32 = cur.read_var().context("message type")?;
    let is_sync = kind == u32::from(MSG_SYNC)
        || (dialect == Dialect::Hocuspocus && kind == hocuspocus::MSG_SYNC_REPLY);
    if !is_sync {
        return Ok(Incoming::Other);
    }
    let sub: u8 = cur.read_var().context("sync message type")?;
    let len = cur.read_buf().context("sync payload")?.len();
    // `read_buf` borrows the cursor; the payload is the `len` bytes it just passed.
    let payload = &frame[cur.next - len..cur.next];
    Ok(match sub {
        MSG_SYNC_STEP_1 => Incoming::SyncStep1(payload),
        MSG_SYNC_STEP_2 => Incoming::SyncStep2(payload),
        MSG_SYNC_UPDATE => Incoming::Update(payload),
        other => bail!("unknown sync message type {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hocuspocus_frames_carry_the_document_name() {
        let mut enc = EncoderV1::new();
        enc.write_string("doc-1");
        enc.write_var(hocuspocus::MSG_SYNC_REPLY);
        enc.write_var(MSG_SYNC_STEP_2);
        enc.write_buf([1, 2, 3]);
        let frame = enc.to_vec();
        assert_eq!(parse(Dialect::Hocuspocus, &frame).unwrap(), Incoming::SyncStep2(&[1, 2, 3]));
        // The same bytes read as y-websocket are a different message: the framing matters.
        assert_ne!(parse(Dialect::YWebsocket, &frame).ok(), Some(Incoming::SyncStep2(&[1, 2, 3])));
    }

    #[test]
    fn y_websocket_update_and_awareness() {
        let frame = [0, 2, 2, 9, 9];
        assert_eq!(parse(Dialect::YWebsocket, &frame).unwrap(), Incoming::Update(&[9, 9]));
        assert_eq!(parse(Dialect::YWebsocket, &[1, 0]).unwrap(), Incoming::Other);
        assert!(parse(Dialect::YWebsocket, &[0, 7, 0]).is_err());
    }
}
