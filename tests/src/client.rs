//! A y-websocket client: keeps its own `yrs::Doc` and `Awareness` in step with a server, as the
//! official `WebsocketProvider` does.

use futures_util::{SinkExt, StreamExt};
use hubring_protocol::ws::{MSG_SAVED, MSG_SUBSCRIBE_SAVED};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::encoding::read::Cursor;
use yrs::sync::{Awareness, Message, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Transact, TransactionMut, Update};

use crate::WAIT;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What one received frame was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A document update (step 2 or update) was applied.
    Update,
    /// The server asked for our state; we answered.
    SyncStep1,
    Awareness,
    /// Our first `n` updates are saved.
    Saved(u64),
    /// An auth message, with the denial reason if any.
    Auth(Option<String>),
    /// The server closed the connection with this code and reason.
    Closed(u16, String),
}

/// A connected client.
#[derive(Debug)]
pub struct DocClient {
    ws: Ws,
    pub awareness: Awareness,
    /// Number of updates this client sent.
    pub n_sent: u64,
    /// Highest save acknowledgement received.
    pub n_saved: u64,
    /// Set once the server closed the connection.
    pub closed: Option<(u16, String)>,
}

impl DocClient {
    /// Connects and sends sync step 1, as the official provider does.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, Doc::new()).await
    }

    /// Connects with an existing document.
    pub async fn connect_with(url: &str, doc: Doc) -> anyhow::Result<Self> {
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Self::start(ws, doc).await
    }

    /// Connects with `request` (a browser's: a session cookie and the server's `Origin`) and
    /// waits until the document's state has arrived.
    pub async fn connect_request_synced(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> anyhow::Result<Self> {
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        let mut client = Self::start(ws, Doc::new()).await?;
        client.wait_for(|e| *e == Event::Update).await?;
        Ok(client)
    }

    async fn start(ws: Ws, doc: Doc) -> anyhow::Result<Self> {
        let mut client =
            Self { ws, awareness: Awareness::new(doc), n_sent: 0, n_saved: 0, closed: None };
        let sv = client.doc().transact().state_vector();
        client.send_raw(Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()).await?;
        Ok(client)
    }

    /// Connects and waits until the document's state has arrived (the server's sync step 2).
    pub async fn connect_synced(url: &str) -> anyhow::Result<Self> {
        let mut client = Self::connect(url).await?;
        client.wait_for(|e| *e == Event::Update).await?;
        Ok(client)
    }

    pub fn doc(&self) -> &Doc {
        self.awareness.doc()
    }

    /// Sends a raw frame.
    pub async fn send_raw(&mut self, frame: Vec<u8>) -> anyhow::Result<()> {
        self.ws.send(WsMessage::Binary(frame.into())).await?;
        Ok(())
    }

    /// Asks for save acknowledgements.
    pub async fn subscribe_saved(&mut self) -> anyhow::Result<()> {
        self.send_raw(Message::Custom(MSG_SUBSCRIBE_SAVED, vec![]).encode_v1()).await
    }

    /// Makes a change locally and sends it as one update.
    pub async fn edit<R>(
        &mut self,
        f: impl FnOnce(&mut TransactionMut<'_>) -> R,
    ) -> anyhow::Result<()> {
        let update = {
            let mut txn = self.doc().transact_mut();
            f(&mut txn);
            txn.encode_update_v1()
        };
        self.n_sent += 1;
        self.send_raw(Message::Sync(SyncMessage::Update(update)).encode_v1()).await
    }

    /// Sets this client's presence and sends it.
    pub async fn set_presence(&mut self, state: serde_json::Value) -> anyhow::Result<()> {
        self.awareness.set_local_state(state)?;
        let update = self.awareness.update()?;
        self.send_raw(Message::Awareness(update).encode_v1()).await
    }

    /// Receives and handles one frame; `None` once the connection is over.
    pub async fn next_event(&mut self) -> anyhow::Result<Option<Event>> {
        loop {
            if self.closed.is_some() {
                return Ok(None);
            }
            let Some(msg) = self.ws.next().await else {
                self.closed = Some((1006, "closed without a close frame".into()));
                return Ok(None);
            };
            let frame = match msg {
                Ok(WsMessage::Binary(frame)) => frame,
                Ok(WsMessage::Close(frame)) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((u16::from(CloseCode::Status), String::new()));
                    self.closed = Some((code, reason.clone()));
                    return Ok(Some(Event::Closed(code, reason)));
                }
                Ok(_) => continue,
                Err(err) => {
                    self.closed = Some((1006, err.to_string()));
                    return Ok(None);
                }
            };
            return self.handle(&frame).await.map(Some);
        }
    }

    async fn handle(&mut self, frame: &[u8]) -> anyhow::Result<Event> {
        let msg = Message::decode(&mut DecoderV1::new(Cursor::new(frame)))?;
        Ok(match msg {
            Message::Sync(SyncMessage::SyncStep1(sv)) => {
                let update = self.doc().transact().encode_state_as_update_v1(&sv);
                self.send_raw(Message::Sync(SyncMessage::SyncStep2(update)).encode_v1()).await?;
                Event::SyncStep1
            }
            Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                self.doc().transact_mut().apply_update(Update::decode_v1(&update)?)?;
                Event::Update
            }
            Message::Awareness(update) => {
                self.awareness.apply_update(update)?;
                Event::Awareness
            }
            Message::Auth(reason) => Event::Auth(reason),
            Message::Custom(MSG_SAVED, payload) => {
                let n: u64 = yrs::encoding::read::Read::read_var(&mut Cursor::new(&payload))?;
                self.n_saved = self.n_saved.max(n);
                Event::Saved(n)
            }
            other => anyhow::bail!("unexpected message {other:?}"),
        })
    }

    /// Handles frames until one matches `pred`.
    pub async fn wait_for(
        &mut self,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> anyhow::Result<Event> {
        tokio::time::timeout(WAIT, async {
            loop {
                match self.next_event().await? {
                    Some(event) if pred(&event) => return Ok(event),
                    Some(_) => {}
                    None => anyhow::bail!("connection ended while waiting: {:?}", self.closed),
                }
            }
        })
        .await
        .map_err(|_| anyhow::anyhow!("timed out waiting for an event"))?
    }

    /// Handles frames until the client's state satisfies `pred`.
    pub async fn wait_until(&mut self, mut pred: impl FnMut(&Self) -> bool) -> anyhow::Result<()> {
        tokio::time::timeout(WAIT, async {
            while !pred(self) {
                if self.next_event().await?.is_none() {
                    anyhow::bail!("connection ended while waiting: {:?}", self.closed);
                }
            }
            Ok(())
        })
        .await
        .map_err(|_| anyhow::anyhow!("timed out waiting for a state"))?
    }

    /// Waits for the server to close the connection and returns the close code.
    pub async fn wait_closed(&mut self) -> anyhow::Result<u16> {
        tokio::time::timeout(WAIT, async {
            while self.next_event().await?.is_some() {}
            Ok(self.closed.as_ref().map_or(1006, |c| c.0))
        })
        .await
        .map_err(|_| anyhow::anyhow!("timed out waiting for the close"))?
    }

    /// Waits until every update this client sent is acknowledged as saved.
    pub async fn wait_all_saved(&mut self) -> anyhow::Result<()> {
        let n_sent = self.n_sent;
        self.wait_until(|c| c.n_saved >= n_sent).await
    }

    /// The whole document as JSON, for comparing clients.
    pub fn json(&self) -> serde_json::Value {
        let txn = self.doc().transact();
        let mut text = String::new();
        yrs::types::ToJson::to_json(self.doc(), &txn).to_json(&mut text);
        serde_json::from_str(&text).unwrap_or_default()
    }

    /// The document's state vector.
    pub fn state_vector(&self) -> StateVector {
        self.doc().transact().state_vector()
    }

    /// Closes the connection from the client side.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
