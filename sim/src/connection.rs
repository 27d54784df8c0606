//! The interface strategies are written against.
//!
//! [`Connection`] is what a backend implements (the simulator here, a real
//! PostgreSQL in stockrace-adapters): a statement goes in, a reply or an error
//! with its SQLSTATE comes out. [`Session`] wraps one with the typed helpers a
//! strategy calls (`begin`, `select_for_update`, `update`, `commit`, ...).

use std::task::{Context, Poll};
use std::time::Duration;
use stockrace_model::{DbError, Isolation, LevelId, Lock, Reply, Row, Statement, Update};

pub use futures::future::BoxFuture;

/// A database connection. Object-safe so one strategy runs on any backend.
pub trait Connection: Send {
    /// Sends one statement and waits for its reply (which may mean waiting
    /// for a lock), as a poll: the first poll of a statement takes it out of
    /// `statement`; later polls find the reply. [`Session::execute`] is the
    /// future around it. (A poll, not a boxed future: a statement is the
    /// simulator's hottest path, and a box per statement cost an allocation.)
    fn poll_execute(
        &mut self,
        cx: &mut Context<'_>,
        statement: &mut Option<Statement>,
    ) -> Poll<Result<Reply, DbError>>;

    /// Lets virtual time pass (retry backoff, think time). In the simulator
    /// this is the only way an order's time passes, so use it rather than a
    /// runtime's own sleep.
    fn sleep(&mut self, duration: Duration) -> BoxFuture<'_, ()>;

    /// Takes a lock that lives in the application process (like Medusa's
    /// default in-memory locking provider): it serialises only orders running
    /// on the same app node. Waits while another order there holds it.
    fn process_lock(&mut self, key: u64) -> BoxFuture<'_, ()>;

    /// Releases an in-process lock taken with [`Connection::process_lock`].
    fn process_unlock(&mut self, key: u64);
}

/// How COMMIT answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitTag {
    Committed,
    /// The transaction had failed earlier; PostgreSQL answers COMMIT with ROLLBACK.
    RolledBack,
}

/// A connection with typed helpers, handed to a strategy for one order.
pub struct Session {
    connection: Box<dyn Connection>,
}

impl Session {
    pub fn new(connection: Box<dyn Connection>) -> Session {
        Session { connection }
    }

    pub async fn execute(&mut self, statement: Statement) -> Result<Reply, DbError> {
        let mut statement = Some(statement);
        std::future::poll_fn(|cx| self.connection.poll_execute(cx, &mut statement)).await
    }

    pub async fn begin(&mut self, isolation: Isolation) -> Result<(), DbError> {
        self.execute(Statement::Begin(isolation)).await.map(drop)
    }

    pub async fn commit(&mut self) -> Result<CommitTag, DbError> {
        match self.execute(Statement::Commit).await? {
            Reply::Rollback => Ok(CommitTag::RolledBack),
            _ => Ok(CommitTag::Committed),
        }
    }

    pub async fn rollback(&mut self) -> Result<(), DbError> {
        self.execute(Statement::Rollback).await.map(drop)
    }

    /// `SELECT ... WHERE id = level`: never waits.
    pub async fn select(&mut self, level: LevelId) -> Result<Row, DbError> {
        self.select_with(level, Lock::None).await
    }

    /// `SELECT ... WHERE id = level FOR UPDATE`: waits for the row's lock.
    pub async fn select_for_update(&mut self, level: LevelId) -> Result<Row, DbError> {
        self.select_with(level, Lock::ForUpdate).await
    }

    /// `SELECT ... WHERE id = level`, with the given row lock.
    pub async fn select_with(&mut self, level: LevelId, lock: Lock) -> Result<Row, DbError> {
        match self.execute(Statement::Select { level, lock }).await? {
            Reply::Select(Some(row)) => Ok(row),
            other => panic!(
                "SELECT of inventory_level id={} answered {other}: the row must exist",
                level.sql_id()
            ),
        }
    }

    /// Runs an UPDATE; `Some(row)` is the updated row, `None` means it matched
    /// no row (UPDATE 0).
    pub async fn update(&mut self, update: Update) -> Result<Option<Row>, DbError> {
        match self.execute(Statement::Update(update)).await? {
            Reply::Update { count: 0, .. } => Ok(None),
            Reply::Update { row, .. } => Ok(row),
            other => panic!("UPDATE answered {other}"),
        }
    }

    pub async fn sleep(&mut self, duration: Duration) {
        self.connection.sleep(duration).await
    }

    /// `SELECT stocked_quantity - SUM(reservation.quantity)` for `level`.
    pub async fn available(&mut self, level: LevelId) -> Result<i64, DbError> {
        match self.execute(Statement::Available { level }).await? {
            Reply::Value(v) => Ok(v),
            other => panic!("the available-quantity query answered {other}"),
        }
    }

    /// `INSERT INTO reservation (inventory_level_id, quantity)`.
    pub async fn insert_reservation(
        &mut self,
        level: LevelId,
        quantity: i64,
    ) -> Result<(), DbError> {
        self.execute(Statement::InsertReservation { level, quantity })
            .await
            .map(drop)
    }

    /// `SELECT pg_advisory_xact_lock(key)`: held until the transaction ends.
    pub async fn advisory_lock(&mut self, key: u32) -> Result<(), DbError> {
        self.execute(Statement::AdvisoryLock { key })
            .await
            .map(drop)
    }

    /// Takes an in-process lock (see [`Connection::process_lock`]).
    pub async fn process_lock(&mut self, key: u64) {
        self.connection.process_lock(key).await
    }

    pub fn process_unlock(&mut self, key: u64) {
        self.connection.process_unlock(key)
    }
}
