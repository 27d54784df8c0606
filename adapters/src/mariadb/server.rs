//! A MariaDB server to run on: where it is, a tokio runtime on its own
//! threads, a pool of session connections, and InnoDB's view of who waits
//! for whom.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

pub use crate::driver::ServerError as MariaDbError;

pub(crate) const HOW_TO_START: &str = "start a throwaway server as .ci/run does \
     (`apt-get install mariadb-server`, then `mariadb-install-db --no-defaults --datadir=D --user=root` \
     and `mariadbd --no-defaults --datadir=D --socket=D/sock --port=3407 --bind-address=127.0.0.1 \
     --user=root &`) and name it with STOCKRACE_MARIADB=mysql://root@localhost/?socket=D/sock \
     (or mysql://user:password@host:port/), or with the MARIADB_HOST, MARIADB_PORT, MARIADB_USER, \
     MARIADB_PASSWORD, MARIADB_SOCKET variables (MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_USER, MYSQL_PWD, \
     MYSQL_UNIX_PORT)";

/// How long InnoDB keeps serving the same copy of its transaction and lock
/// tables to information_schema after a read (trx0i_s.cc,
/// CACHE_MIN_IDLE_TIME: 100 ms), with a margin. A read sooner than this
/// after the previous one sees the old copy, so reads are spaced by it.
const LOCK_TABLES_FRESH_AFTER: Duration = Duration::from_millis(110);

/// One transaction as INNODB_TRX and INNODB_LOCK_WAITS showed it.
#[derive(Clone, Debug, Default)]
pub(crate) struct TrxView {
    /// `trx_id`. InnoDB shows 0 for every transaction that has written
    /// nothing yet (one holding only shared locks, say), so it names a
    /// transaction only together with the connections that could be it.
    pub id: String,
    /// `trx_state`: RUNNING, LOCK WAIT, ROLLING BACK, COMMITTING.
    pub state: String,
    /// `trx_requested_lock_id`: the lock it waits for, if it waits.
    pub requested_lock: Option<String>,
    /// `blocking_trx_id` of each transaction it waits for, in the order
    /// INNODB_LOCK_WAITS lists them.
    pub blocked_by: Vec<String>,
}

/// InnoDB's transactions at one moment, by connection id.
#[derive(Clone, Debug)]
pub(crate) struct LockSnapshot {
    /// When the read began: the copy is at least this new.
    pub taken: Instant,
    pub by_connection: HashMap<u32, TrxView>,
}

/// A MariaDB server and the connections stockrace keeps to it.
pub struct MariaDbServer {
    runtime: tokio::runtime::Runtime,
    opts: Opts,
    /// Session connections not in use by a run.
    pool: Mutex<Vec<Conn>>,
    /// Reads the lock tables, sets up and reads back runs.
    pub(crate) monitor: Arc<tokio::sync::Mutex<Conn>>,
    /// The newest read of the lock tables and when that read ended.
    snapshot: Arc<tokio::sync::Mutex<Option<(LockSnapshot, Instant)>>>,
    next_run: AtomicU64,
    /// `innodb_lock_wait_timeout` on the server, in real seconds: it stands
    /// for the model's virtual one (50 s by default). The server takes
    /// whole seconds only.
    pub lock_wait_timeout_s: u64,
    /// `user@host:port`, for messages.
    pub description: String,
    /// `@@version`.
    pub version: String,
}

impl MariaDbServer {
    /// Connects to the server named by `url` (`mysql://user:password@host:port/`),
    /// or by STOCKRACE_MARIADB, or by the MARIADB_* / MYSQL_* variables.
    /// Without any of them: root without a password on 127.0.0.1:3306.
    pub fn connect(url: Option<&str>) -> Result<MariaDbServer, MariaDbError> {
        let opts = opts(url)?;
        let description = describe(&opts);
        // The runtime's threads are made here, before any simulation starts.
        let runtime = crate::driver::start_runtime(2)?;
        let connect = {
            let opts = opts.clone();
            async move {
                let connect = Conn::new(opts);
                let mut conn = tokio::time::timeout(Duration::from_secs(5), connect)
                    .await
                    .map_err(|_| "no answer in 5 s".to_string())?
                    .map_err(|e| e.to_string())?;
                let version: Option<String> = conn
                    .query_first("SELECT @@version")
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>((conn, version.unwrap_or_default()))
            }
        };
        let (monitor, version) = runtime.block_on(connect).map_err(|e| {
            MariaDbError::Unreachable(format!(
                "cannot connect to MariaDB at {description}: {e}; {HOW_TO_START}"
            ))
        })?;
        Ok(MariaDbServer {
            runtime,
            opts,
            pool: Mutex::new(Vec::new()),
            monitor: Arc::new(tokio::sync::Mutex::new(monitor)),
            snapshot: Arc::new(tokio::sync::Mutex::new(None)),
            next_run: AtomicU64::new(0),
            lock_wait_timeout_s: 3,
            description,
            version,
        })
    }

    /// Runs `future` on the server's runtime and waits for its output (see
    /// `driver::call`).
    pub(crate) fn call<R: Send + 'static>(
        &self,
        future: impl Future<Output = R> + Send + 'static,
    ) -> R {
        crate::driver::call(&self.runtime, future)
    }

    /// `n` session connections for a run, opening more if the pool has fewer.
    pub(crate) fn take_sessions(&self, n: usize) -> Result<Vec<Conn>, MariaDbError> {
        let mut taken = {
            let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
            let keep = pool.len().saturating_sub(n);
            pool.split_off(keep)
        };
        while taken.len() < n {
            let opts = self.opts.clone();
            let conn = self.call(Conn::new(opts)).map_err(|e| {
                MariaDbError::Unreachable(format!(
                    "cannot open a session connection to {}: {e}",
                    self.description
                ))
            })?;
            taken.push(conn);
        }
        Ok(taken)
    }

    /// Connections a run is done with, cleaned up, go back to the pool.
    pub(crate) fn return_sessions(&self, conns: Vec<Conn>) {
        self.pool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(conns);
    }

    pub(crate) fn next_database(&self) -> String {
        format!(
            "stockrace_{}_{}",
            std::process::id(),
            self.next_run.fetch_add(1, Ordering::Relaxed)
        )
    }

    pub(crate) fn snapshot_cell(&self) -> Arc<tokio::sync::Mutex<Option<(LockSnapshot, Instant)>>> {
        self.snapshot.clone()
    }
}

/// Whether [`lock_snapshot`] would answer at once: a read begun after
/// `after` is at hand, or InnoDB's tables can be read afresh now.
pub(crate) fn snapshot_ready(
    cell: &tokio::sync::Mutex<Option<(LockSnapshot, Instant)>>,
    after: Instant,
) -> bool {
    match cell.try_lock() {
        Err(_) => false,
        Ok(cell) => match cell.as_ref() {
            None => true,
            Some((snapshot, ended)) => {
                snapshot.taken >= after || ended.elapsed() >= LOCK_TABLES_FRESH_AFTER
            }
        },
    }
}

/// InnoDB's transactions and lock waits as they stand at some moment after
/// `after`. Reads are shared among runs and spaced so that each one gets a
/// fresh copy of InnoDB's tables (see [`LOCK_TABLES_FRESH_AFTER`]); that
/// holds as long as nothing else on the server reads them meanwhile.
pub(crate) async fn lock_snapshot(
    cell: &tokio::sync::Mutex<Option<(LockSnapshot, Instant)>>,
    monitor: &tokio::sync::Mutex<Conn>,
    after: Instant,
) -> LockSnapshot {
    let mut cell = cell.lock().await;
    if let Some((snapshot, _)) = cell.as_ref() {
        if snapshot.taken >= after {
            return snapshot.clone();
        }
    }
    if let Some((_, ended)) = cell.as_ref() {
        tokio::time::sleep_until(*ended + LOCK_TABLES_FRESH_AFTER).await;
    }
    let taken = Instant::now();
    // Waits are matched by the lock requested: a requester that has
    // written nothing has trx_id 0, as other such transactions do.
    // (connection, trx_id, state, requested lock, blocking trx_id)
    type Listed = (u32, String, String, Option<String>, Option<String>);
    let rows: Vec<Listed> = monitor
        .lock()
        .await
        .query(
            "SELECT t.trx_mysql_thread_id, t.trx_id, t.trx_state, t.trx_requested_lock_id, \
             w.blocking_trx_id \
             FROM information_schema.INNODB_TRX t \
             LEFT JOIN information_schema.INNODB_LOCK_WAITS w \
             ON w.requested_lock_id = t.trx_requested_lock_id",
        )
        .await
        .unwrap_or_else(|e| {
            panic!("MariaDB: cannot read information_schema.INNODB_TRX (PROCESS privilege?): {e}")
        });
    let mut by_connection: HashMap<u32, TrxView> = HashMap::new();
    for (connection, id, state, requested_lock, blocker) in rows {
        let view = by_connection.entry(connection).or_default();
        view.id = id;
        view.state = state;
        view.requested_lock = requested_lock;
        if let Some(b) = blocker {
            if !view.blocked_by.contains(&b) {
                view.blocked_by.push(b);
            }
        }
    }
    let snapshot = LockSnapshot {
        taken,
        by_connection,
    };
    *cell = Some((snapshot.clone(), Instant::now()));
    snapshot
}

/// The settings `url` names, or the environment's.
pub(crate) fn opts(url: Option<&str>) -> Result<Opts, MariaDbError> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let url = url.map(str::to_string).or_else(|| var("STOCKRACE_MARIADB"));
    let builder = match url {
        Some(url) => {
            let opts = Opts::from_url(&url).map_err(|e| {
                MariaDbError::Unreachable(format!(
                    "{url:?} is not a MariaDB URL (mysql://user:password@host:port/): {e}"
                ))
            })?;
            OptsBuilder::from_opts(opts)
        }
        None => {
            let either = |a: &str, b: &str| var(a).or_else(|| var(b));
            let builder = OptsBuilder::default()
                .ip_or_hostname(either("MARIADB_HOST", "MYSQL_HOST").unwrap_or("127.0.0.1".into()))
                .tcp_port(
                    either("MARIADB_PORT", "MYSQL_TCP_PORT")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(3306),
                )
                .user(Some(
                    either("MARIADB_USER", "MYSQL_USER").unwrap_or("root".into()),
                ))
                .pass(either("MARIADB_PASSWORD", "MYSQL_PWD"));
            match either("MARIADB_SOCKET", "MYSQL_UNIX_PORT") {
                Some(socket) => builder.socket(Some(socket)),
                None => builder,
            }
        }
    };
    // Rows matched, not rows changed, as the reference's UPDATE counts;
    // each run picks its own database, and sessions are not pooled by the driver.
    Ok(builder
        .client_found_rows(true)
        .db_name(None::<String>)
        .prefer_socket(false)
        .into())
}

fn describe(opts: &Opts) -> String {
    let user = opts.user().unwrap_or("root");
    match opts.socket() {
        Some(socket) => format!("{user}@{socket}"),
        None => format!("{user}@{}:{}", opts.ip_or_hostname(), opts.tcp_port()),
    }
}
