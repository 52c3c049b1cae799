//! Several nodes on one store. PostgreSQL holds the truth and orders every document's updates;
//! Redis carries what one node tells the others, fast and without a guarantee:
//!
//! - `PREFIX doc:ID`: a live document's committed updates and presence (see `hubring_sync`'s
//!   `peers` module for the message and for how a lost one is repaired from the store);
//! - `PREFIX events`: what every node must act on at once (a change of access closes
//!   connections on every node; an item's change reaches every node's document index).
//!
//! [`Redis`] publishes through one multiplexed connection that reconnects by itself, in
//! pipelines (whatever queued while the last one was in flight), and subscribes through one
//! pub/sub connection that a task keeps open: when it drops, the task reconnects with a growing
//! pause, subscribes again to every channel in use, and tells the [`Inbox`] it may have missed
//! messages ([`Inbox::reconnected`]). A document's subscription is counted, so an actor that
//! retires while its successor starts never unsubscribes the successor.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use hubring_protocol::DocId;
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Messages queued for publishing before new ones are dropped (the store repairs them).
const PUBLISH_QUEUE: usize = 65_536;

/// Most messages sent in one pipeline.
const MAX_PIPELINE: usize = 512;

/// How long a node's hold on a video room lasts unless renewed: a node that dies loses its
/// rooms this long after (sooner, when a participant finds it gone).
pub const ROOM_LEASE: Duration = Duration::from_secs(10);

fn lease_ms() -> String {
    ROOM_LEASE.as_millis().to_string()
}

/// How long a command to Redis may take before it counts as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Errors reaching Redis.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer in time")]
    Timeout,
    #[error("the redis subscription is down")]
    NotSubscribed,
}

/// Where what other nodes publish goes.
pub trait Inbox: Send + Sync + 'static {
    /// A message about a live document.
    fn doc(&self, doc: &DocId, message: &Bytes);
    /// A message on the events channel.
    fn event(&self, message: &Bytes);
    /// The subscription was lost and is back: messages may have been missed meanwhile.
    fn reconnected(&self);
}

/// Running totals, for `/metrics`.
#[derive(Debug, Default)]
pub struct RedisCounters {
    /// Messages published.
    pub published: AtomicU64,
    /// Messages that could not be published (Redis away, queue full).
    pub publish_failed: AtomicU64,
    /// Messages received from other nodes' publishing (this node's own included).
    pub received: AtomicU64,
    /// Times the subscription connection was opened again after a loss.
    pub reconnects: AtomicU64,
}

/// One node's connection to Redis.
pub struct Redis {
    prefix: String,
    node: u64,
    manager: ConnectionManager,
    publish: mpsc::Sender<(String, Bytes)>,
    subscriptions: Mutex<HashMap<String, usize>>,
    commands: mpsc::UnboundedSender<SubCmd>,
    subscribed: AtomicBool,
    counters: Arc<RedisCounters>,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis").field("prefix", &self.prefix).field("node", &self.node).finish()
    }
}

enum SubCmd {
    Subscribe(String, oneshot::Sender<()>),
    Unsubscribe(String),
}

/// The subscribing half of [`Redis::connect`], started once the node can take messages.
pub struct Subscriber {
    client: redis::Client,
    commands: mpsc::UnboundedReceiver<SubCmd>,
    redis: Arc<Redis>,
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber").field("redis", &self.redis).finish()
    }
}

impl Redis {
    /// Connects to `url` (`redis://HOST:PORT[/DB]`). Channels are named `prefix...`, so
    /// several deployments may share one Redis. Nothing is received until the
    /// [`Subscriber`] is started.
    pub async fn connect(url: &str, prefix: &str) -> Result<(Arc<Self>, Subscriber), ClusterError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let manager = tokio::time::timeout(
            RESPONSE_TIMEOUT * 2,
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| ClusterError::Timeout)??;
        let (publish, queue) = mpsc::channel(PUBLISH_QUEUE);
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let mut node = [0u8; 8];
        // A node's id only tells its own messages apart from others'; any unlikely-to-repeat
        // number will do, and the process id is the fallback if the system has no randomness.
        if getrandom::fill(&mut node).is_err() {
            node = u64::from(std::process::id()).to_le_bytes();
        }
        let redis = Arc::new(Self {
            prefix: prefix.to_owned(),
            node: u64::from_le_bytes(node),
            manager,
            publish,
            subscriptions: Mutex::default(),
            commands,
            subscribed: AtomicBool::new(false),
            counters: Arc::default(),
        });
        tokio::spawn(publisher(redis.manager.clone(), queue, Arc::clone(&redis.counters)));
        let subscriber = Subscriber { client, commands: commands_rx, redis: Arc::clone(&redis) };
        Ok((redis, subscriber))
    }

    /// This node's id in the messages it publishes.
    pub fn node(&self) -> u64 {
        self.node
    }

    /// Totals for `/metrics`.
    pub fn counters(&self) -> &RedisCounters {
        &self.counters
    }

    /// Whether Redis answers a ping and the subscription is open, for `/readyz`.
    pub async fn ready(&self) -> Result<(), ClusterError> {
        let mut conn = self.manager.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        tokio::time::timeout(RESPONSE_TIMEOUT, ping).await.map_err(|_| ClusterError::Timeout)??;
        if self.subscribed.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err(ClusterError::NotSubscribed)
        }
    }

    /// Publishes on the events channel.
    pub fn publish_event(&self, message: Bytes) {
        self.send(self.events_channel(), message);
    }

    /// The node hosting video room `room`: `me` if no node did (the lease is now this node's,
    /// for [`ROOM_LEASE`] unless renewed), or the node that does.
    pub async fn room_host(&self, room: &str, me: &str) -> Result<String, ClusterError> {
        // Set if absent, and in any case answer the holder: one round trip, no race.
        const CLAIM: &str = "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then \
             return ARGV[1] else return redis.call('GET', KEYS[1]) end";
        self.eval(CLAIM, &self.room_key(room), &[me, &lease_ms()]).await
    }

    /// Takes room `room` over from `dead` (a node that did not answer) unless another node
    /// already has; answers the host.
    pub async fn take_room_over(
        &self,
        room: &str,
        dead: &str,
        me: &str,
    ) -> Result<String, ClusterError> {
        const TAKE: &str = "local h = redis.call('GET', KEYS[1]) \
             if h == false or h == ARGV[1] then \
               redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return ARGV[2] end \
             return h";
        self.eval(TAKE, &self.room_key(room), &[dead, me, &lease_ms()]).await
    }

    /// Renews this node's lease on each of `rooms` it still holds.
    pub async fn renew_rooms(&self, rooms: &[String], me: &str) -> Result<(), ClusterError> {
        const RENEW: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
             return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
        let mut pipe = redis::pipe();
        for room in rooms {
            pipe.cmd("EVAL").arg(RENEW).arg(1).arg(self.room_key(room)).arg(me).arg(lease_ms());
            pipe.ignore();
        }
        let mut conn = self.manager.clone();
        let renew = pipe.query_async::<()>(&mut conn);
        tokio::time::timeout(RESPONSE_TIMEOUT, renew)
            .await
            .map_err(|_| ClusterError::Timeout)??;
        Ok(())
    }

    /// Gives room `room` up if this node holds it (its last participant left).
    pub async fn release_room(&self, room: &str, me: &str) -> Result<(), ClusterError> {
        const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
             return redis.call('DEL', KEYS[1]) else return 0 end";
        let _: i64 = self.eval(RELEASE, &self.room_key(room), &[me]).await?;
        Ok(())
    }

    async fn eval<T: redis::FromRedisValue>(
        &self,
        script: &str,
        key: &str,
        args: &[&str],
    ) -> Result<T, ClusterError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(script).arg(1).arg(key);
        for arg in args {
            cmd.arg(*arg);
        }
        let mut conn = self.manager.clone();
        let answer = cmd.query_async::<T>(&mut conn);
        Ok(tokio::time::timeout(RESPONSE_TIMEOUT, answer)
            .await
            .map_err(|_| ClusterError::Timeout)??)
    }

    fn room_key(&self, room: &str) -> String {
        format!("{}room:{room}", self.prefix)
    }

    fn doc_channel(&self, doc: &DocId) -> String {
        format!("{}doc:{}", self.prefix, doc.as_str())
    }

    fn events_channel(&self) -> String {
        format!("{}events", self.prefix)
    }

    fn send(&self, channel: String, message: Bytes) {
        if self.publish.try_send((channel, message)).is_err() {
            self.counters.publish_failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl hubring_sync::Peers for Redis {
    fn subscribe(&self, doc: &DocId) -> BoxFuture<'static, ()> {
        let channel = self.doc_channel(doc);
        let (done, wait) = oneshot::channel();
        let first = {
            let mut subscriptions = lock(&self.subscriptions);
            let n = subscriptions.entry(channel.clone()).or_insert(0);
            *n += 1;
            *n == 1
        };
        if first {
            let _ = self.commands.send(SubCmd::Subscribe(channel, done));
        } else {
            let _ = done.send(());
        }
        Box::pin(async move {
            // However the subscription went (Redis may be away), the document goes on: the
            // store check covers what is not received.
            let _ = tokio::time::timeout(RESPONSE_TIMEOUT, wait).await;
        })
    }

    fn unsubscribe(&self, doc: &DocId) {
        let channel = self.doc_channel(doc);
        let last = {
            let mut subscriptions = lock(&self.subscriptions);
            match subscriptions.get_mut(&channel) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => {
                    subscriptions.remove(&channel);
                    true
                }
                None => false,
            }
        };
        if last {
            let _ = self.commands.send(SubCmd::Unsubscribe(channel));
        }
    }

    fn publish(&self, doc: &DocId, message: Bytes) {
        self.send(self.doc_channel(doc), message);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps stay consistent at every step, so a panic elsewhere leaves nothing half-done.
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sends what is queued, in pipelines: one round trip for whatever queued during the last.
async fn publisher(
    mut conn: ConnectionManager,
    mut queue: mpsc::Receiver<(String, Bytes)>,
    counters: Arc<RedisCounters>,
) {
    let mut batch = Vec::with_capacity(MAX_PIPELINE);
    while queue.recv_many(&mut batch, MAX_PIPELINE).await > 0 {
        let mut pipe = redis::pipe();
        for (channel, message) in &batch {
            pipe.cmd("PUBLISH").arg(channel).arg(message.as_ref()).ignore();
        }
        let n = batch.len() as u64;
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => {
                counters.published.fetch_add(n, Ordering::Relaxed);
            }
            Err(err) => {
                counters.publish_failed.fetch_add(n, Ordering::Relaxed);
                tracing::warn!(%err, n, "publishing to redis failed");
            }
        }
        batch.clear();
    }
}

impl Subscriber {
    /// Receives until `shutdown`: documents' messages and events go to `inbox`.
    pub fn start(self, inbox: Arc<dyn Inbox>, shutdown: CancellationToken) {
        tokio::spawn(self.run(inbox, shutdown));
    }

    async fn run(mut self, inbox: Arc<dyn Inbox>, shutdown: CancellationToken) {
        let redis = Arc::clone(&self.redis);
        let doc_prefix = format!("{}doc:", redis.prefix);
        let events = redis.events_channel();
        let mut delay = Duration::from_millis(50);
        let mut connected_before = false;
        loop {
            let connected = tokio::select! {
                () = shutdown.cancelled() => return,
                connected = self.open(&events) => connected,
            };
            let (mut sink, mut stream) = match connected {
                Ok(pair) => pair,
                Err(err) => {
                    tracing::warn!(%err, "redis subscription failed, retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(2));
                    continue;
                }
            };
            delay = Duration::from_millis(50);
            redis.subscribed.store(true, Ordering::Relaxed);
            if connected_before {
                redis.counters.reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::info!("redis subscription restored");
                inbox.reconnected();
            }
            connected_before = true;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    msg = stream.next() => {
                        let Some(msg) = msg else { break };
                        redis.counters.received.fetch_add(1, Ordering::Relaxed);
                        let channel = msg.get_channel_name();
                        let payload = Bytes::copy_from_slice(msg.get_payload_bytes());
                        if channel == events {
                            inbox.event(&payload);
                        } else if let Some(id) = channel.strip_prefix(&doc_prefix)
                            && let Ok(doc) = DocId::parse(id)
                        {
                            inbox.doc(&doc, &payload);
                        }
                    }
                    cmd = self.commands.recv() => {
                        let Some(cmd) = cmd else { return };
                        let result = match cmd {
                            SubCmd::Subscribe(channel, done) => {
                                let result = sink.subscribe(&channel).await;
                                let _ = done.send(());
                                result
                            }
                            SubCmd::Unsubscribe(channel) => sink.unsubscribe(&channel).await,
                        };
                        if let Err(err) = result {
                            tracing::warn!(%err, "redis subscription command failed");
                            break;
                        }
                    }
                }
            }
            redis.subscribed.store(false, Ordering::Relaxed);
            tracing::warn!("redis subscription lost, reconnecting");
        }
    }

    /// Opens the pub/sub connection and subscribes to every channel in use.
    async fn open(
        &mut self,
        events: &str,
    ) -> Result<(redis::aio::PubSubSink, redis::aio::PubSubStream), ClusterError> {
        let pubsub = tokio::time::timeout(RESPONSE_TIMEOUT, self.client.get_async_pubsub())
            .await
            .map_err(|_| ClusterError::Timeout)??;
        let (mut sink, stream) = pubsub.split();
        // Commands queued while disconnected are settled by the set of channels in use now.
        let mut waiting = Vec::new();
        while let Ok(cmd) = self.commands.try_recv() {
            if let SubCmd::Subscribe(_, done) = cmd {
                waiting.push(done);
            }
        }
        let mut channels: Vec<String> = lock(&self.redis.subscriptions).keys().cloned().collect();
        channels.push(events.to_owned());
        for chunk in channels.chunks(1000) {
            tokio::time::timeout(RESPONSE_TIMEOUT, sink.subscribe(chunk))
                .await
                .map_err(|_| ClusterError::Timeout)??;
        }
        for done in waiting {
            let _ = done.send(());
        }
        Ok((sink, stream))
    }
}
