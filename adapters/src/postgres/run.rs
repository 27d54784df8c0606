//! One run on PostgreSQL: a fresh schema, one connection per session, and
//! the bookkeeping that turns the server's behaviour into the scheduler's
//! events.
//!
//! A statement is sent without waiting for its answer; the driver then
//! watches it until it either completes or is confirmed waiting for a lock
//! (`pg_stat_activity.wait_event_type = 'Lock'` with a non-empty
//! `pg_blocking_pids`, asked on a separate monitoring connection). A waiting
//! statement that completes later is reported as resumed at the step that
//! released it. After every step the driver lets the server settle, and
//! lets woken waiters go one at a time where it can (`waits`).

use super::server::{PgError, PgServer, SessionConnection};
use super::sql;

mod waits;

use std::sync::Arc;
use std::time::{Duration, SystemTime};
use stockrace_model::{
    Event, Isolation, LevelId, Progress, Reply, Row, RowView, SessionId, Statement,
};
use stockrace_sim::{Backend, Simulation, WaitDeadlines, WaitSettings};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

type QueryResult = Result<Vec<SimpleQueryMessage>, tokio_postgres::Error>;

struct Pending {
    statement: Statement,
    /// Its place among the statements the run sent.
    sent: u64,
    /// The query on the server.
    task: JoinHandle<QueryResult>,
    /// Whom the server last said it waits for (`pg_blocking_pids`' first).
    blocked_on: Option<SessionId>,
    /// When the current lock wait began: here, and on the server (which
    /// tells a new wait after a wake-up from a continued one).
    waiting_since: Option<Instant>,
    server_wait_start: Option<SystemTime>,
}

struct PgSession {
    connection: Arc<SessionConnection>,
    pending: Option<Pending>,
    in_transaction: bool,
    /// Opened by BEGIN (not by a statement outside one).
    explicit: bool,
    /// An error aborted the transaction; the client has not ended it yet.
    failed: bool,
    /// Isolation level of the open transaction (READ COMMITTED outside one).
    isolation: Isolation,
    lock_timeout: Option<Duration>,
    /// When its last statement answered: a session that just answered may
    /// still be releasing locks (a tuple lock after UPDATE 0, say).
    answered: Option<Instant>,
    /// Its backend is stopped while it waits for a lock (see `pause`).
    stopped: bool,
}

/// The run's state, owned by the server's runtime.
struct RunState {
    schema: String,
    monitor: Arc<Client>,
    sessions: Vec<PgSession>,
    deadlock_timeout: Duration,
    /// Statements sent so far.
    sent: u64,
    /// Whether waiting backends are stopped and woken one at a time (every
    /// session's backend can be: see `pause`).
    pausing: bool,
}

/// What the scheduler may read between calls without asking the server.
#[derive(Clone, Default)]
struct Mirror {
    in_transaction: Vec<bool>,
    waits_for: Vec<Option<SessionId>>,
}

/// A simulation's [`Backend`] on PostgreSQL.
pub struct PgBackend<'a> {
    server: &'a PgServer,
    state: Arc<tokio::sync::Mutex<RunState>>,
    mirror: Mirror,
    schema: String,
    levels: usize,
    virtual_now_ms: u64,
}

impl PgServer {
    /// A fresh schema holding `simulation`'s rows, and one connection per
    /// order, paced to its virtual deadlock_timeout and lock_timeouts.
    pub fn backend(&self, simulation: &Simulation) -> Result<PgBackend<'_>, PgError> {
        let scenario = simulation.scenario();
        let lock_timeouts: Vec<Option<u64>> =
            scenario.orders.iter().map(|o| o.lock_timeout_ms).collect();
        self.backend_for(
            &scenario.initial_rows(),
            &lock_timeouts,
            scenario.check_nonnegative,
            scenario.deadlock_timeout_ms,
        )
    }

    /// A fresh schema holding `rows`, and one session per entry of
    /// `lock_timeouts` (virtual milliseconds, or none).
    pub fn backend_for(
        &self,
        rows: &[Row],
        lock_timeouts: &[Option<u64>],
        check_nonnegative: bool,
        deadlock_timeout_ms: u64,
    ) -> Result<PgBackend<'_>, PgError> {
        let schema = self.next_schema();
        let check = if check_nonnegative {
            " CHECK (stocked_quantity >= 0)"
        } else {
            ""
        };
        let values = crate::driver::inventory_values(rows);
        let setup = format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.inventory_level (id integer PRIMARY KEY, stocked_quantity bigint NOT NULL{check},
                 reserved_quantity bigint NOT NULL, version bigint NOT NULL);
             CREATE TABLE {schema}.reservation (id serial PRIMARY KEY, inventory_level_id integer NOT NULL,
                 quantity bigint NOT NULL);
             CREATE TABLE {schema}.sale (order_id integer PRIMARY KEY);
             INSERT INTO {schema}.inventory_level VALUES {};",
            values
        );
        let monitor = self.monitor.clone();
        self.call(async move { monitor.batch_execute(&setup).await })
            .map_err(|e| PgError::Setup(format!("cannot create schema {schema}: {e}")))?;

        let deadlock_timeout = self
            .pacing
            .real(deadlock_timeout_ms)
            .max(Duration::from_millis(1));
        let connections = self.sessions(lock_timeouts.len())?;
        let mut sessions = Vec::with_capacity(connections.len());
        for (connection, lock_timeout_ms) in connections.into_iter().zip(lock_timeouts) {
            let lock_timeout =
                lock_timeout_ms.map(|ms| self.pacing.real(ms).max(Duration::from_millis(1)));
            let settings = session_settings(&schema, deadlock_timeout, lock_timeout);
            let c = connection.clone();
            self.call(async move { c.client.batch_execute(&settings).await }).map_err(|e| {
                PgError::Setup(format!(
                    "cannot configure a session (deadlock_timeout needs a superuser or SET privilege): {e}"
                ))
            })?;
            sessions.push(PgSession {
                connection,
                pending: None,
                in_transaction: false,
                explicit: false,
                failed: false,
                lock_timeout,
                answered: None,
                stopped: false,
                isolation: Isolation::ReadCommitted,
            });
        }
        let n = sessions.len();
        Ok(PgBackend {
            server: self,
            state: Arc::new(tokio::sync::Mutex::new(RunState {
                schema: schema.clone(),
                monitor: self.monitor.clone(),
                sent: 0,
                pausing: sessions.iter().all(|s| s.connection.pausable.is_some()),
                sessions,
                deadlock_timeout,
            })),
            mirror: Mirror {
                in_transaction: vec![false; n],
                waits_for: vec![None; n],
            },
            schema,
            levels: rows.len(),
            virtual_now_ms: 0,
        })
    }
}

/// What a session connection is set to for a run.
fn session_settings(
    schema: &str,
    deadlock_timeout: Duration,
    lock_timeout: Option<Duration>,
) -> String {
    format!(
        "ROLLBACK; SET search_path TO {schema}; SET deadlock_timeout = '{}ms'; SET lock_timeout = '{}ms'",
        deadlock_timeout.as_millis(),
        lock_timeout.map_or(0, |t| t.as_millis())
    )
}

/// How long the server may take to end a closed connection's backend.
const BACKEND_EXIT: Duration = Duration::from_secs(10);

impl RunState {
    fn mirror(&self) -> Mirror {
        Mirror {
            in_transaction: self.sessions.iter().map(|s| s.in_transaction).collect(),
            waits_for: self
                .sessions
                .iter()
                .map(|s| s.pending.as_ref().and_then(|p| p.blocked_on))
                .collect(),
        }
    }

    async fn execute(&mut self, session: SessionId, statement: Statement) -> Vec<Event> {
        let s = &mut self.sessions[session.index()];
        assert!(
            s.pending.is_none(),
            "{session} sent a statement while its previous one was still waiting"
        );
        if statement.level().is_some() && !s.in_transaction {
            // Outside BEGIN the statement is its own transaction.
            s.in_transaction = true;
            s.explicit = false;
            s.isolation = Isolation::ReadCommitted;
        }
        if let (Statement::Begin(isolation), false) = (statement, s.in_transaction) {
            s.isolation = isolation;
        }
        let mut events = Vec::new();
        // Every statement goes to the server at once, whatever waits ahead
        // of it: the model queues waiters as PostgreSQL does (the first
        // waiter holds the tuple lock, later ones wait for it), so the
        // server's own queue is what is compared. (Earlier versions held a
        // statement back behind another waiter for the same row, which hid
        // the tuple lock queue from the diff.)
        self.send(session, statement);
        self.resolve(session, false, &mut events).await;
        self.settle(&mut events).await;
        events
    }

    /// `session`'s connection closes (its app node crashed, or its reply
    /// was lost): the client goes, and `fresh` takes its place. The server
    /// ends the old backend, rolling back what it had open; once it is
    /// gone, the rollback is reported as the model reports the ROLLBACK it
    /// stands for, and the waiters it let go run.
    async fn disconnect(
        &mut self,
        session: SessionId,
        fresh: Arc<SessionConnection>,
    ) -> Vec<Event> {
        let s = &self.sessions[session.index()];
        assert!(
            s.pending.is_none(),
            "{session}'s connection closed while its statement was still waiting"
        );
        let settings = session_settings(&self.schema, self.deadlock_timeout, s.lock_timeout);
        fresh
            .client
            .batch_execute(&settings)
            .await
            .unwrap_or_else(|e| panic!("cannot configure a new session connection: {e}"));
        if self.pausing && fresh.pausable.is_none() {
            // Waiters are stopped one at a time only while every backend
            // can be (see `pause`): the rest of the run goes unpaused.
            self.pausing = false;
            self.resume_all();
        }
        let s = &mut self.sessions[session.index()];
        let old = std::mem::replace(&mut s.connection, fresh);
        let pid = old.pid;
        drop(old);
        let gone_by = Instant::now() + BACKEND_EXIT;
        while self
            .monitor
            .query_opt("SELECT 1 FROM pg_stat_activity WHERE pid = $1", &[&pid])
            .await
            .expect("asking whether a backend ended")
            .is_some()
        {
            assert!(
                Instant::now() < gone_by,
                "PostgreSQL did not end backend {pid} within {BACKEND_EXIT:?} of its client closing the connection"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let s = &mut self.sessions[session.index()];
        let mut events = Vec::new();
        if s.in_transaction {
            events.push(Event {
                session,
                statement: Statement::Rollback,
                progress: Progress::Done(Ok(Reply::Rollback)),
                resumed: false,
                row: None,
            });
        }
        s.in_transaction = false;
        s.explicit = false;
        s.failed = false;
        s.isolation = Isolation::ReadCommitted;
        s.answered = Some(Instant::now());
        self.settle(&mut events).await;
        events
    }

    /// Sends `statement` on `session`'s connection without waiting for it.
    fn send(&mut self, session: SessionId, statement: Statement) {
        let s = &mut self.sessions[session.index()];
        let sql = sql::sql(&statement);
        let connection = s.connection.clone();
        let task = tokio::spawn(async move { connection.client.simple_query(&sql).await });
        self.sent += 1;
        s.pending = Some(Pending {
            statement,
            sent: self.sent,
            task,
            blocked_on: None,
            waiting_since: None,
            server_wait_start: None,
        });
    }

    fn complete(
        &mut self,
        session: SessionId,
        result: QueryResult,
        resumed: bool,
        events: &mut Vec<Event>,
    ) {
        let s = &mut self.sessions[session.index()];
        let pending = s.pending.take().expect("pending");
        s.answered = Some(Instant::now());
        let statement = pending.statement;
        let progress = match &result {
            Ok(messages) => Progress::Done(Ok(sql::reply(&statement, messages, s.failed))),
            Err(e) => Progress::Done(Err(sql::error(e))),
        };
        match (statement, &progress) {
            (Statement::Begin(_), Progress::Done(Ok(_))) => {
                if !s.in_transaction {
                    s.in_transaction = true;
                    s.explicit = true;
                    s.failed = false;
                }
            }
            (Statement::Commit | Statement::Rollback, _) => {
                s.in_transaction = false;
                s.explicit = false;
                s.failed = false;
            }
            (_, Progress::Done(Err(_))) if s.explicit => s.failed = true,
            (_, _) if !s.explicit => s.in_transaction = false,
            _ => {}
        }
        events.push(Event {
            session,
            statement,
            progress,
            resumed,
            row: None,
        });
    }

    async fn row_view(&self, level: LevelId) -> RowView {
        RowView {
            level,
            committed: self.committed_row(level).await,
            // Another transaction's uncommitted version is not visible from outside.
            locked_by: None,
        }
    }

    async fn committed_row(&self, level: LevelId) -> Row {
        let row = self
            .monitor
            .query_one(
                &format!("SELECT stocked_quantity, reserved_quantity, version FROM {}.inventory_level WHERE id = $1", self.schema),
                &[&(level.sql_id() as i32)],
            )
            .await
            .expect("reading a row");
        Row {
            stocked: row.get(0),
            reserved: row.get(1),
            version: row.get(2),
        }
    }

    async fn committed_reservations(&self, level: LevelId) -> i64 {
        let row = self
            .monitor
            .query_one(
                &format!(
                    "SELECT coalesce(sum(quantity), 0)::bigint FROM {}.reservation WHERE inventory_level_id = $1",
                    self.schema
                ),
                &[&(level.sql_id() as i32)],
            )
            .await
            .expect("reading reservations");
        row.get(0)
    }

    /// Ends the run: cancels what still waits, rolls back, drops the schema.
    async fn close(&mut self) {
        // A stopped backend would not hear the cancel.
        self.resume_all();
        for s in &mut self.sessions {
            if let Some(task) = s.pending.take().map(|p| p.task) {
                let _ = s.connection.client.cancel_token().cancel_query(NoTls).await;
                let _ = task.await;
            }
            let _ = s.connection.client.batch_execute("ROLLBACK").await;
        }
        let _ = self
            .monitor
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .await;
    }
}

impl PgBackend<'_> {
    /// Runs `f` on the run state on the server's runtime and refreshes the mirror.
    fn with_state<R: Send + 'static>(
        &mut self,
        f: impl for<'s> FnOnce(&'s mut RunState) -> futures::future::BoxFuture<'s, R> + Send + 'static,
    ) -> R {
        let state = self.state.clone();
        let (result, mirror) = self.server.call(async move {
            let mut state = state.lock().await;
            let result = f(&mut state).await;
            (result, state.mirror())
        });
        self.mirror = mirror;
        result
    }

    fn read<R: Send + 'static>(
        &self,
        f: impl for<'s> FnOnce(&'s RunState) -> futures::future::BoxFuture<'s, R> + Send + 'static,
    ) -> R {
        let state = self.state.clone();
        self.server.call(async move {
            let state = state.lock().await;
            f(&state).await
        })
    }

    /// The schema this run created.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl Backend for PgBackend<'_> {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        out.extend(self.with_state(move |s| Box::pin(s.execute(session, statement))));
    }

    fn close_connection(&mut self, session: SessionId, out: &mut Vec<Event>) {
        let fresh = self
            .server
            .reconnect(session.index())
            .unwrap_or_else(|e| panic!("{e}"));
        out.extend(self.with_state(move |s| Box::pin(s.disconnect(session, fresh))));
    }

    fn deadlock_check(&mut self, session: SessionId, out: &mut Vec<Event>) {
        out.extend(self.with_state(move |s| {
            let timeout = s.deadlock_timeout;
            Box::pin(s.after_timeout(session, timeout))
        }));
    }

    fn wait_deadlines(
        &self,
        _session: SessionId,
        began_ms: u64,
        settings: WaitSettings,
    ) -> WaitDeadlines {
        stockrace_sim::backend::postgres::wait_deadlines(began_ms, settings)
    }

    fn wait_timed_out(&mut self, session: SessionId, out: &mut Vec<Event>) {
        out.extend(self.with_state(move |s| {
            let timeout = s.sessions[session.index()].lock_timeout.unwrap_or_default();
            Box::pin(s.after_timeout(session, timeout))
        }));
    }

    fn time_passed(&mut self, now_ms: u64, _out: &mut Vec<Event>) {
        let real = self
            .server
            .pacing
            .real(now_ms.saturating_sub(self.virtual_now_ms));
        self.virtual_now_ms = now_ms;
        // The sleep is made on the runtime: its timer needs the runtime's clock.
        self.server
            .call(async move { tokio::time::sleep(real).await });
    }

    fn in_transaction(&self, session: SessionId) -> bool {
        self.mirror.in_transaction[session.index()]
    }

    fn open_transactions(&self) -> usize {
        self.mirror.in_transaction.iter().filter(|t| **t).count()
    }

    fn waits_for(&self, session: SessionId) -> Option<SessionId> {
        self.mirror.waits_for[session.index()]
    }

    fn row(&self, level: LevelId) -> RowView {
        self.read(move |s| Box::pin(s.row_view(level)))
    }

    fn committed_rows(&self) -> Vec<Row> {
        let levels = self.levels as u32;
        self.read(move |s| {
            Box::pin(async move {
                let mut rows = Vec::new();
                for l in 0..levels {
                    rows.push(s.committed_row(LevelId(l)).await);
                }
                rows
            })
        })
    }

    fn committed_reservations(&self, level: LevelId) -> i64 {
        self.read(move |s| Box::pin(s.committed_reservations(level)))
    }
}

impl Drop for PgBackend<'_> {
    fn drop(&mut self) {
        let state = self.state.clone();
        let paused = self.server.call(async move {
            let mut state = state.lock().await;
            state.close().await;
            state.pausing
        });
        if !paused {
            self.server
                .unpaused_runs
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}
