//! One run on MariaDB: a fresh database, one connection per session, and
//! the bookkeeping that turns the server's behaviour into the model's events.
//!
//! A statement is sent without waiting for its answer; the driver then
//! watches every statement in flight until each has either answered or is
//! confirmed waiting for a lock: InnoDB lists its transaction in
//! information_schema.INNODB_TRX as `LOCK WAIT`, and INNODB_LOCK_WAITS
//! names the transactions it waits for, each of them either idle in its
//! transaction (its session has nothing in flight) or itself confirmed
//! waiting; or, for waits in a cycle InnoDB's deadlock detector does not
//! see (one through several holders of a shared lock), waiting for the same
//! lock in two reads in a row. A transaction being rolled back (a deadlock
//! victim on its way out) or a statement still running leaves the picture
//! unsettled, and the driver looks again. Only a read of the lock tables
//! begun after the last answer counts, so a wait that a step ended is never
//! reported as going on.
//!
//! Statements that answer during a step are reported after the sender's
//! own event, oldest statement first, as the model reports them.

use super::server::{lock_snapshot, snapshot_ready, LockSnapshot, MariaDbError, MariaDbServer};
use super::sql::{self, Answer};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use std::sync::Arc;
use std::time::Duration;
use stockrace_model::innodb::InnoDbConfig;
use stockrace_model::{DbError, Event, LevelId, Progress, Row, SessionId, Statement};
use tokio::task::JoinHandle;
use tokio::time::Instant;

mod waits;

/// How long a statement may go neither answering nor waiting for a lock.
const STUCK: Duration = Duration::from_secs(10);
/// How often statements in flight are looked at.
const POLL: Duration = Duration::from_millis(1);
/// How long a new statement (or one a step may have woken) is given to
/// answer before the driver asks InnoDB whether it waits.
const FIRST_WAIT: Duration = Duration::from_millis(5);

/// A wait InnoDB confirmed.
#[derive(Clone, Debug)]
struct Wait {
    on: SessionId,
    /// `trx_requested_lock_id`: a different one is a new wait.
    lock: Option<String>,
    /// Virtual time at which the model's innodb_lock_wait_timeout ends it.
    deadline_ms: u64,
}

struct Pending {
    statement: Statement,
    /// Its place among the statements the run sent.
    sent: u64,
    /// The statement on the server; gives the connection back with the answer.
    task: JoinHandle<(Conn, Answer)>,
    wait: Option<Wait>,
}

struct Session {
    /// The connection, while no statement is in flight on it.
    conn: Option<Conn>,
    /// Its connection id (`trx_mysql_thread_id` in INNODB_TRX).
    connection_id: u32,
    pending: Option<Pending>,
    /// Whether a transaction is open, as the answers say (the server's
    /// `@@in_transaction` is asked when the session is idle).
    in_transaction: bool,
}

/// The run's state, owned by the server's runtime.
struct RunState {
    database: String,
    monitor: Arc<tokio::sync::Mutex<Conn>>,
    snapshot: Arc<tokio::sync::Mutex<Option<(LockSnapshot, Instant)>>>,
    sessions: Vec<Session>,
    sent: u64,
    virtual_now_ms: u64,
    config: InnoDbConfig,
    /// innodb_lock_wait_timeout on the server, for the model's virtual one.
    real_lock_wait_timeout: Duration,
}

/// What the caller may read between calls without asking the server.
#[derive(Clone, Default)]
struct Mirror {
    in_transaction: Vec<bool>,
    waits: Vec<Option<(SessionId, u64)>>,
}

/// A run on a real MariaDB with the inherent operations of the model's
/// [`InnoDbStore`](stockrace_model::innodb::InnoDbStore): `execute`,
/// `waits_for`, `time_passed`, `next_timeout_ms`, `in_transaction`, the
/// committed rows. Virtual time is paced to the server's: the model's
/// `innodb_lock_wait_timeout` (50 s) is the server's
/// [`MariaDbServer::lock_wait_timeout_s`] (3 s), and other virtual time
/// passes at the same rate.
pub struct MariaDbBackend<'a> {
    server: &'a MariaDbServer,
    state: Arc<tokio::sync::Mutex<RunState>>,
    mirror: Mirror,
    database: String,
    levels: usize,
    config: InnoDbConfig,
}

impl MariaDbServer {
    /// A fresh database holding `rows` (row `i` is `id = i + 1`), the
    /// `reservation` table, and `sessions` connections set up as `config` says.
    pub fn backend(
        &self,
        rows: &[Row],
        sessions: usize,
        config: InnoDbConfig,
    ) -> Result<MariaDbBackend<'_>, MariaDbError> {
        let database = self.next_database();
        let check = if config.check_nonnegative {
            ", CONSTRAINT stock_nonneg CHECK (stocked_quantity >= 0)"
        } else {
            ""
        };
        let values = crate::driver::inventory_values(rows);
        let setup = vec![
            format!("CREATE DATABASE {database}"),
            format!(
                "CREATE TABLE {database}.inventory_level (id INT PRIMARY KEY, \
                 stocked_quantity BIGINT NOT NULL, reserved_quantity BIGINT NOT NULL, \
                 version BIGINT NOT NULL{check}) ENGINE=InnoDB"
            ),
            format!(
                "CREATE TABLE {database}.reservation (id INT AUTO_INCREMENT PRIMARY KEY, \
                 inventory_level_id INT NOT NULL, quantity BIGINT NOT NULL, \
                 KEY reservation_inventory_level_id_idx (inventory_level_id)) ENGINE=InnoDB"
            ),
            format!("CREATE TABLE {database}.sale (order_id INT PRIMARY KEY) ENGINE=InnoDB"),
            format!("INSERT INTO {database}.inventory_level VALUES {}", values),
        ];
        let monitor = self.monitor.clone();
        self.call(async move {
            let mut monitor = monitor.lock().await;
            for sql in setup {
                monitor.query_drop(sql).await?;
            }
            Ok::<_, mysql_async::Error>(())
        })
        .map_err(|e| MariaDbError::Setup(format!("cannot create database {database}: {e}")))?;

        let real_lock_wait_timeout = Duration::from_secs(self.lock_wait_timeout_s);
        let settings = vec![
            "ROLLBACK".to_string(),
            format!("USE {database}"),
            "SET SESSION autocommit = 1".to_string(),
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ".to_string(),
            format!(
                "SET SESSION innodb_lock_wait_timeout = {}",
                self.lock_wait_timeout_s
            ),
            format!(
                "SET SESSION innodb_snapshot_isolation = {}",
                if config.snapshot_isolation {
                    "ON"
                } else {
                    "OFF"
                }
            ),
        ];
        let conns = self.take_sessions(sessions)?;
        let configured = self.call(async move {
            let mut out = Vec::new();
            for mut conn in conns {
                for sql in &settings {
                    if let Err(e) = conn.query_drop(sql).await {
                        return Err(format!("`{sql}`: {e}"));
                    }
                }
                out.push(conn);
            }
            Ok(out)
        });
        let conns = configured.map_err(|e| {
            MariaDbError::Setup(format!(
                "cannot set up a session (innodb_snapshot_isolation needs MariaDB 10.11.9 or later): {e}"
            ))
        })?;
        let sessions: Vec<Session> = conns
            .into_iter()
            .map(|conn| Session {
                connection_id: conn.id(),
                conn: Some(conn),
                pending: None,
                in_transaction: false,
            })
            .collect();
        let n = sessions.len();
        Ok(MariaDbBackend {
            server: self,
            state: Arc::new(tokio::sync::Mutex::new(RunState {
                database: database.clone(),
                monitor: self.monitor.clone(),
                snapshot: self.snapshot_cell(),
                sessions,
                sent: 0,
                virtual_now_ms: 0,
                config,
                real_lock_wait_timeout,
            })),
            mirror: Mirror {
                in_transaction: vec![false; n],
                waits: vec![None; n],
            },
            database,
            levels: rows.len(),
            config,
        })
    }
}

impl RunState {
    fn mirror(&self) -> Mirror {
        Mirror {
            in_transaction: self.sessions.iter().map(|s| s.in_transaction).collect(),
            waits: self
                .sessions
                .iter()
                .map(|s| {
                    let wait = s.pending.as_ref()?.wait.as_ref()?;
                    Some((wait.on, wait.deadline_ms))
                })
                .collect(),
        }
    }

    async fn execute(&mut self, session: SessionId, statement: Statement) -> Vec<Event> {
        let s = &mut self.sessions[session.index()];
        assert!(
            s.pending.is_none(),
            "{session} sent a statement while its previous one was still waiting"
        );
        let mut conn = s.conn.take().expect("an idle session has its connection");
        self.sent += 1;
        let task = tokio::spawn(async move {
            let answer = sql::run(&mut conn, statement).await;
            (conn, answer)
        });
        self.sessions[session.index()].pending = Some(Pending {
            statement,
            sent: self.sent,
            task,
            wait: None,
        });
        self.settle(Some(session)).await
    }

    /// Virtual time is now `now_ms`: waits past the model's timeout end on
    /// the server too (with 1205) before this returns; other time passes
    /// paced to the server's clock.
    async fn time_passed(&mut self, now_ms: u64) -> Vec<Event> {
        let delta = now_ms.saturating_sub(self.virtual_now_ms);
        self.virtual_now_ms = self.virtual_now_ms.max(now_ms);
        let due: Vec<usize> = (0..self.sessions.len())
            .filter(|&i| {
                self.sessions[i]
                    .pending
                    .as_ref()
                    .and_then(|p| p.wait.as_ref())
                    .is_some_and(|w| w.deadline_ms <= now_ms)
            })
            .collect();
        if due.is_empty() {
            let real = self.real_lock_wait_timeout.as_secs_f64() * delta as f64
                / self.config.lock_wait_timeout_ms.max(1) as f64;
            tokio::time::sleep(Duration::from_secs_f64(real)).await;
            let answered = self
                .sessions
                .iter()
                .any(|s| s.pending.as_ref().is_some_and(|p| p.task.is_finished()));
            if !answered {
                return Vec::new();
            }
        } else {
            // The server ends each of these waits on its own clock.
            let give_up = Instant::now() + self.real_lock_wait_timeout + STUCK;
            for i in due {
                while self.sessions[i]
                    .pending
                    .as_ref()
                    .is_some_and(|p| !p.task.is_finished())
                {
                    assert!(
                        Instant::now() < give_up,
                        "MariaDB: T{}'s wait did not time out",
                        i + 1
                    );
                    tokio::time::sleep(POLL).await;
                }
            }
        }
        self.settle(None).await
    }

    /// `@@in_transaction` of an idle session, from the server.
    async fn in_transaction(&mut self, session: SessionId) -> bool {
        let s = &mut self.sessions[session.index()];
        let Some(conn) = s.conn.as_mut() else {
            return s.in_transaction;
        };
        let value: Option<i64> = conn
            .query_first("SELECT @@in_transaction")
            .await
            .unwrap_or_else(|e| panic!("MariaDB: SELECT @@in_transaction: {e}"));
        let open = value == Some(1);
        s.in_transaction = open;
        open
    }

    async fn query_monitor<T: mysql_async::prelude::FromRow + Send + 'static>(
        &self,
        sql: String,
    ) -> Vec<T> {
        self.monitor
            .lock()
            .await
            .query(&sql)
            .await
            .unwrap_or_else(|e| panic!("MariaDB: `{sql}`: {e}"))
    }

    /// Ends the run: stops what is still in flight, rolls back, drops the database.
    async fn close(&mut self) -> Vec<Conn> {
        let mut conns = Vec::new();
        for i in 0..self.sessions.len() {
            if let Some(pending) = self.sessions[i].pending.take() {
                let id = self.sessions[i].connection_id;
                let _ = self
                    .monitor
                    .lock()
                    .await
                    .query_drop(format!("KILL QUERY {id}"))
                    .await;
                if let Ok((conn, _)) = pending.task.await {
                    self.sessions[i].conn = Some(conn);
                }
            }
            if let Some(mut conn) = self.sessions[i].conn.take() {
                if conn.query_drop("ROLLBACK").await.is_ok() {
                    conns.push(conn);
                }
            }
        }
        let _ = self
            .monitor
            .lock()
            .await
            .query_drop(format!("DROP DATABASE IF EXISTS {}", self.database))
            .await;
        conns
    }
}

impl MariaDbBackend<'_> {
    /// Runs `f` on the run state on the server's runtime and refreshes the mirror.
    fn with_state<R: Send + 'static>(
        &self,
        f: impl for<'s> FnOnce(&'s mut RunState) -> futures::future::BoxFuture<'s, R> + Send + 'static,
    ) -> (R, Mirror) {
        let state = self.state.clone();
        self.server.call(async move {
            let mut state = state.lock().await;
            let result = f(&mut state).await;
            (result, state.mirror())
        })
    }

    /// Runs `statement` for `session` and appends what happened to `out`:
    /// its own event first (its answer, or the start of its wait), then
    /// the answers and new waits of statements that were waiting.
    ///
    /// Panics if `session` is waiting: a client sends one statement at a time.
    pub fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        let (events, mirror) = self.with_state(move |s| Box::pin(s.execute(session, statement)));
        self.mirror = mirror;
        out.extend(events);
    }

    /// Whom `session`'s statement waits for, if it waits (the first
    /// transaction INNODB_LOCK_WAITS names).
    pub fn waits_for(&self, session: SessionId) -> Option<SessionId> {
        self.mirror.waits[session.index()].map(|(on, _)| on)
    }

    pub fn is_waiting(&self, session: SessionId) -> bool {
        self.mirror.waits[session.index()].is_some()
    }

    /// Virtual time is now `now_ms`: every wait past the model's
    /// `innodb_lock_wait_timeout` has failed with 1205 on the server (its
    /// events go to `out`); shorter spans pass in real time at the pace
    /// the timeouts set.
    pub fn time_passed(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        let (events, mirror) = self.with_state(move |s| Box::pin(s.time_passed(now_ms)));
        self.mirror = mirror;
        out.extend(events);
    }

    /// The virtual time at which the next lock wait times out, if any waits.
    pub fn next_timeout_ms(&self) -> Option<u64> {
        self.mirror.waits.iter().flatten().map(|(_, d)| *d).min()
    }

    /// The virtual time at which `session`'s lock wait times out, if it waits.
    pub fn wait_deadline_ms(&self, session: SessionId) -> Option<u64> {
        self.mirror.waits[session.index()].map(|(_, d)| d)
    }

    /// Whether `session` has a transaction open: `@@in_transaction` on its
    /// connection when it is idle, else what its last answers said.
    pub fn in_transaction(&self, session: SessionId) -> bool {
        self.with_state(move |s| Box::pin(s.in_transaction(session)))
            .0
    }

    pub fn open_transactions(&self) -> usize {
        self.mirror.in_transaction.iter().filter(|t| **t).count()
    }

    /// The newest committed version of every row, in `LevelId` order.
    pub fn committed_rows(&self) -> Vec<Row> {
        let sql = format!(
            "SELECT stocked_quantity, reserved_quantity, version FROM {}.inventory_level ORDER BY id",
            self.database
        );
        let rows: Vec<(i64, i64, i64)> = self.with_state(move |s| Box::pin(s.query_monitor(sql))).0;
        rows.into_iter()
            .map(|(stocked, reserved, version)| Row {
                stocked,
                reserved,
                version,
            })
            .collect()
    }

    /// Units held by committed reservation rows of `level`.
    pub fn committed_reservations(&self, level: LevelId) -> i64 {
        self.reservation_figure("CAST(coalesce(sum(quantity), 0) AS SIGNED)", level)
    }

    /// How many committed reservation rows `level` has.
    pub fn committed_reservation_count(&self, level: LevelId) -> usize {
        self.reservation_figure("count(*)", level) as usize
    }

    fn reservation_figure(&self, figure: &str, level: LevelId) -> i64 {
        let sql = format!(
            "SELECT {figure} FROM {}.reservation WHERE inventory_level_id = {}",
            self.database,
            level.sql_id()
        );
        let rows: Vec<i64> = self.with_state(move |s| Box::pin(s.query_monitor(sql))).0;
        rows.first().copied().unwrap_or(0)
    }

    pub fn levels(&self) -> impl Iterator<Item = LevelId> {
        (0..self.levels as u32).map(LevelId)
    }

    pub fn config(&self) -> InnoDbConfig {
        self.config
    }

    /// The database this run created.
    pub fn database(&self) -> &str {
        &self.database
    }
}

impl Drop for MariaDbBackend<'_> {
    fn drop(&mut self) {
        let state = self.state.clone();
        let conns = self.server.call(async move {
            let mut state = state.lock().await;
            state.close().await
        });
        self.server.return_sessions(conns);
    }
}
