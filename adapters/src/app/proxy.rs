//! The relay between orders (processes, or Rust closures) and the real
//! server: one listening endpoint per order, so that every connection an
//! order opens (its whole pool) is known to be that order's.
//!
//! Bytes pass through unchanged. The proxy answers `N` to SSL and GSSAPI
//! encryption requests (the relay must read the protocol), forwards cancel
//! requests on a connection of their own, and lets authentication pass. After
//! the first ReadyForQuery, a message that starts a step (a Query, or the
//! first message of an extended-protocol batch) is held until the scheduler
//! releases it; messages that follow before the release join the step, and
//! so do those sent while it runs, until its ReadyForQuery. A Sync alone
//! (no statement before it: a pool's ping, as sqlx sends before lending an
//! idle connection) asks nothing of the data and passes unheld.

use super::process::unread_bytes;
use super::state::{Connection, Phase, Shared};
use super::statement_text::normalise;
use super::trace::ConnId;
use super::wire::{self, Message};
use std::collections::BTreeMap;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Where the real server listens.
#[derive(Clone, Debug)]
pub enum Upstream {
    Tcp(String, u16),
    /// A Unix socket file (`<dir>/.s.PGSQL.<port>`).
    Unix(PathBuf),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

impl Upstream {
    async fn connect(&self) -> std::io::Result<Box<dyn Stream>> {
        Ok(match self {
            Upstream::Tcp(host, port) => {
                Box::new(TcpStream::connect((host.as_str(), *port)).await?)
            }
            Upstream::Unix(path) => Box::new(UnixStream::connect(path).await?),
        })
    }
}

/// What each connection task needs: the run's state, the server and the
/// run's database, and each order's stdout (to see a ready line it wrote
/// before its first statement). The connections of a run are closed when
/// the run ends; the endpoints stay for the next.
pub struct Proxy {
    pub shared: Shared,
    pub upstream: Upstream,
    stdout_fds: Mutex<Vec<RawFd>>,
    database: Mutex<String>,
    connections: Mutex<JoinSet<()>>,
}

impl Proxy {
    pub fn new(shared: Shared, upstream: Upstream, orders: usize) -> Proxy {
        Proxy {
            shared,
            upstream,
            stdout_fds: Mutex::new(vec![-1; orders]),
            database: Mutex::new(String::new()),
            connections: Mutex::new(JoinSet::new()),
        }
    }

    /// Where new connections go, whatever database the client names.
    pub fn set_database(&self, database: &str) {
        *lock(&self.database) = database.to_string();
    }

    pub fn set_stdout(&self, order: usize, fd: RawFd) {
        lock(&self.stdout_fds)[order] = fd;
    }

    /// Closes every connection the orders have open.
    pub async fn close_connections(&self) {
        let mut open = std::mem::take(&mut *lock(&self.connections));
        open.shutdown().await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// One endpoint per order on 127.0.0.1 (their ports go into the orders'
/// environment before the proxy starts serving them).
pub fn bind(orders: usize) -> std::io::Result<Vec<std::net::TcpListener>> {
    (0..orders)
        .map(|_| {
            let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
            listener.set_nonblocking(true)?;
            Ok(listener)
        })
        .collect()
}

/// Serves each order's endpoint until the run's tasks are dropped.
pub fn serve_all(
    proxy: Arc<Proxy>,
    listeners: Vec<std::net::TcpListener>,
    tasks: &mut JoinSet<()>,
) -> std::io::Result<()> {
    for (order, listener) in listeners.into_iter().enumerate() {
        let listener = TcpListener::from_std(listener)?;
        let proxy = proxy.clone();
        tasks.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let _ = client.set_nodelay(true);
                lock(&proxy.connections).spawn(serve(proxy.clone(), order, client));
            }
        });
    }
    Ok(())
}

async fn serve(proxy: Arc<Proxy>, order: usize, client: TcpStream) {
    let (mut client_read, mut client_write) = client.into_split();
    let startup = loop {
        match wire::read_startup(&mut client_read).await {
            Ok(Some((code, _))) if code == wire::SSL_REQUEST || code == wire::GSSENC_REQUEST => {
                if client_write.write_all(b"N").await.is_err() {
                    return;
                }
            }
            Ok(Some((code, frame))) if code == wire::CANCEL_REQUEST => {
                if let Ok(mut server) = proxy.upstream.connect().await {
                    let _ = server.write_all(&frame).await;
                }
                return;
            }
            Ok(Some((_, frame))) => break wire::with_database(&frame, &lock(&proxy.database)),
            _ => return,
        }
    };
    let Ok(server) = proxy.upstream.connect().await else {
        return; // the client sees its connection close
    };
    let (server_read, mut server_write) = tokio::io::split(server);
    if server_write.write_all(&startup).await.is_err() {
        return;
    }
    let id: ConnId = proxy.shared.update(|state| {
        let index = state.orders[order].connections;
        state.orders[order].connections += 1;
        let id = (order, index);
        state.connections.insert(
            id,
            Connection {
                phase: Phase::Startup,
                pid: None,
                text: Vec::new(),
                tags: Vec::new(),
                error: None,
                prepared: BTreeMap::new(),
                reported_wait: None,
            },
        );
        id
    });
    let mut client_frames = wire::FrameReader::new(client_read);
    let mut server_frames = wire::FrameReader::new(server_read);
    let to_server = client_to_server(&proxy, id, &mut client_frames, &mut server_write);
    let to_client = server_to_client(&proxy.shared, id, &mut server_frames, &mut client_write);
    tokio::select! {
        _ = to_server => {}
        _ = to_client => {}
    }
    proxy.shared.update(|state| {
        if let Some(c) = state.connections.get_mut(&id) {
            c.phase = Phase::Closed;
        }
        state.recheck_blocked();
    });
}

/// Client to server: holds each step until it is released.
async fn client_to_server<R, W>(
    proxy: &Proxy,
    id: ConnId,
    client: &mut wire::FrameReader<R>,
    server: &mut W,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let shared = &proxy.shared;
    while let Some(message) = client.next().await? {
        if message.tag == b'X' || !scheduled(proxy, id).await {
            if matches!(message.tag, b'Q' | b'P') {
                shared.lock().orders[id.0].unscheduled += 1;
            }
            server.write_all(&message.frame).await?;
            if message.tag == b'X' {
                return Ok(());
            }
            continue;
        }
        let (step_running, idle) = match shared.lock().connections[&id].phase {
            Phase::InFlight | Phase::Blocked => (true, false),
            Phase::Idle => (false, true),
            _ => (false, false),
        };
        // Part of the running step (more of its batch), or a Sync with no
        // statement before it (a pool's ping, as sqlx sends before lending
        // an idle connection): nothing to schedule.
        if step_running || (idle && message.tag == b'S') {
            server.write_all(&message.frame).await?;
            continue;
        }
        let (release, mut released) = oneshot::channel();
        let mut held = message.frame.clone();
        shared.update(|state| {
            let c = state.connections.get_mut(&id).expect("registered");
            c.text.clear();
            describe(c, &message);
            c.phase = Phase::Held { release };
            let o = &mut state.orders[id.0];
            o.busy_since = None;
            o.stalled_now = false;
        });
        loop {
            tokio::select! {
                biased;
                go = &mut released => match go {
                    Ok(()) => break,
                    Err(_) => return Ok(()), // the run is over
                },
                next = client.next() => match next? {
                    Some(more) => {
                        held.extend_from_slice(&more.frame);
                        shared.update(|state| describe(state.connections.get_mut(&id).expect("registered"), &more));
                    }
                    None => return Ok(()),
                },
            }
        }
        server.write_all(&held).await?;
    }
    Ok(())
}

/// Server to client: notes the process id, result tags, errors and the end
/// of each step, and passes everything on.
async fn server_to_client<R, W>(
    shared: &Shared,
    id: ConnId,
    server: &mut wire::FrameReader<R>,
    client: &mut W,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    while let Some(message) = server.next().await? {
        match message.tag {
            b'K' => {
                shared
                    .lock()
                    .connections
                    .get_mut(&id)
                    .expect("registered")
                    .pid = wire::backend_pid(&message)
            }
            b'C' => shared
                .lock()
                .connections
                .get_mut(&id)
                .expect("registered")
                .tags
                .push(wire::command_tag(&message)),
            b'E' => {
                let c = &mut shared.lock();
                let c = c.connections.get_mut(&id).expect("registered");
                c.error.get_or_insert_with(|| wire::error_fields(&message));
            }
            // Before the client can see the answer, the scheduler knows the
            // step is over and the order is running its own code again.
            b'Z' => shared.update(|state| state.step_answered(id, Instant::now())),
            _ => {}
        }
        client.write_all(&message.frame).await?;
    }
    Ok(())
}

/// Whether this connection's next message is scheduled: after the
/// connection's startup and after the order said it is ready.
///
/// The order writes `stockrace: ready` to stdout before it sends its first
/// scheduled statement, but the two arrive on different channels. So when
/// the order does not look ready yet, bytes still unread in its stdout pipe
/// (or an unfinished `stockrace:` line) are read first.
async fn scheduled(proxy: &Proxy, id: ConnId) -> bool {
    loop {
        {
            let state = proxy.shared.lock();
            if matches!(state.connections[&id].phase, Phase::Startup) {
                return false;
            }
            let order = &state.orders[id.0];
            if order.ready {
                return true;
            }
            let partial = order.stdout_partial > 0 && order.stdout_partial_is_protocol;
            let fd = lock(&proxy.stdout_fds)[id.0];
            if order.stdout_closed || (!partial && (fd < 0 || unread_bytes(fd) == 0)) {
                return false;
            }
        }
        tokio::task::yield_now().await;
    }
}

/// Adds what `message` asks of the server to the step's text.
fn describe(c: &mut Connection, message: &Message) {
    match message.tag {
        b'Q' => c.text.push(normalise(&wire::query_text(message))),
        b'P' => {
            let (name, sql) = wire::parse_message(message);
            c.text.push(normalise(&sql));
            c.prepared.insert(name, sql);
        }
        b'B' => {
            let name = wire::bind_statement(message);
            // Bound right after its Parse: already described.
            let parsed_here = c.text.last().is_some_and(|t| {
                c.prepared
                    .get(&name)
                    .is_some_and(|sql| normalise(sql) == *t)
            });
            if !parsed_here {
                c.text.push(match c.prepared.get(&name) {
                    Some(sql) => normalise(sql),
                    None => format!("(execute prepared statement {name:?})"),
                });
            }
        }
        _ => {}
    }
}
