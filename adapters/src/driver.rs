//! What the PostgreSQL and the MariaDB drivers share: why a server could
//! not be used (none there: the message says how to start one, and the
//! commands exit 2 with it; or one that refused the run's setup), and the
//! tokio runtime each drives its connections on.

use std::fmt;
use std::future::Future;
use stockrace_model::Row;
use tokio::runtime::Runtime;

#[derive(Debug)]
pub enum ServerError {
    /// No server to talk to: the message says how to get one.
    Unreachable(String),
    /// The server answered but the run could not be set up.
    Setup(String),
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Unreachable(m) | ServerError::Setup(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ServerError {}

/// A runtime of the driver's own, with `threads` worker threads. Made when
/// the server is opened, before any simulation starts: madsim forbids new
/// system threads inside one.
pub(crate) fn start_runtime(threads: usize) -> Result<Runtime, ServerError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| ServerError::Setup(format!("cannot start a tokio runtime: {e}")))
}

/// Runs `future` on `runtime` and waits for its output. Safe to call from
/// inside a simulation: the future runs on the runtime's own threads, in
/// real time.
pub(crate) fn call<R: Send + 'static>(
    runtime: &Runtime,
    future: impl Future<Output = R> + Send + 'static,
) -> R {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = tx.send(future.await);
    });
    rx.recv().expect("the driver's runtime stopped")
}

/// `rows` as the VALUES of an INSERT into `inventory_level` (id, stocked,
/// reserved, version): row `i` of the model is id `i + 1` on the server.
pub(crate) fn inventory_values(rows: &[Row]) -> String {
    rows.iter()
        .enumerate()
        .map(|(i, r)| format!("({}, {}, {}, {})", i + 1, r.stocked, r.reserved, r.version))
        .collect::<Vec<_>>()
        .join(", ")
}
