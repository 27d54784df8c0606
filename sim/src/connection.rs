//! The interface strategies are written against.
//!
//! [`Connection`] is what a backend implements (the simulator here, a real
//! PostgreSQL in stockrace-adapters): a statement goes in, a reply or an error
//! with its SQLSTATE comes out. [`Session`] wraps one with the typed helpers a
//! strategy calls (`begin`, `select_for_update`, `update`, `commit`, ...).

use crate::lease::LeaseCall;
use crate::runtime::SimConnection;
use std::future::Future;
use std::pin::Pin;
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

    /// Calls the lease-lock service (see [`crate::lease`]), a process of
    /// its own beside the database: a token for a granted lease, 1 for a
    /// renewal or release, 0 for a refusal. Never waits for the lease.
    fn lease(&mut self, call: LeaseCall) -> BoxFuture<'_, u64>;
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
    connection: Held,
}

/// The simulator's connection is held in place (every order of every run
/// has one, and boxing it was an allocation each); any other is boxed.
enum Held {
    Simulated(SimConnection),
    Boxed(Box<dyn Connection>),
}

impl Session {
    pub fn new(connection: Box<dyn Connection>) -> Session {
        Session {
            connection: Held::Boxed(connection),
        }
    }

    pub(crate) fn simulated(connection: SimConnection) -> Session {
        Session {
            connection: Held::Simulated(connection),
        }
    }

    fn connection(&mut self) -> &mut dyn Connection {
        match &mut self.connection {
            Held::Simulated(connection) => connection,
            Held::Boxed(connection) => connection.as_mut(),
        }
    }

    /// Sends `statement`; resolves to its reply.
    pub fn execute(&mut self, statement: Statement) -> Execute<'_> {
        Execute {
            connection: self.connection(),
            statement: Some(statement),
        }
    }

    // The helpers below return a statement's future with its reply read,
    // not `async fn`s: each `async` layer cost every poll of every
    // statement a few dozen instructions.

    pub fn begin(
        &mut self,
        isolation: Isolation,
    ) -> impl Future<Output = Result<(), DbError>> + Send + '_ {
        self.execute(Statement::Begin(isolation)).then_read(drop)
    }

    pub fn commit(&mut self) -> impl Future<Output = Result<CommitTag, DbError>> + Send + '_ {
        self.execute(Statement::Commit)
            .then_read(|reply| match reply {
                Reply::Rollback => CommitTag::RolledBack,
                _ => CommitTag::Committed,
            })
    }

    pub fn rollback(&mut self) -> impl Future<Output = Result<(), DbError>> + Send + '_ {
        self.execute(Statement::Rollback).then_read(drop)
    }

    /// `SELECT ... WHERE id = level`: never waits.
    pub fn select(
        &mut self,
        level: LevelId,
    ) -> impl Future<Output = Result<Row, DbError>> + Send + '_ {
        self.select_with(level, Lock::None)
    }

    /// `SELECT ... WHERE id = level FOR UPDATE`: waits for the row's lock.
    pub fn select_for_update(
        &mut self,
        level: LevelId,
    ) -> impl Future<Output = Result<Row, DbError>> + Send + '_ {
        self.select_with(level, Lock::ForUpdate)
    }

    /// `SELECT ... WHERE id = level`, with the given row lock.
    pub fn select_with(
        &mut self,
        level: LevelId,
        lock: Lock,
    ) -> impl Future<Output = Result<Row, DbError>> + Send + '_ {
        self.execute(Statement::Select { level, lock })
            .then_read(move |reply| match reply {
                Reply::Select(Some(row)) => row,
                other => panic!(
                    "SELECT of inventory_level id={} answered {other}: the row must exist",
                    level.sql_id()
                ),
            })
    }

    /// Runs an UPDATE; `Some(row)` is the updated row, `None` means it matched
    /// no row (UPDATE 0).
    pub fn update(
        &mut self,
        update: Update,
    ) -> impl Future<Output = Result<Option<Row>, DbError>> + Send + '_ {
        self.execute(Statement::Update(update))
            .then_read(|reply| match reply {
                Reply::Update { count: 0, .. } => None,
                Reply::Update { row, .. } => row,
                other => panic!("UPDATE answered {other}"),
            })
    }

    pub async fn sleep(&mut self, duration: Duration) {
        self.connection().sleep(duration).await
    }

    /// `SELECT stocked_quantity - SUM(reservation.quantity)` for `level`.
    pub fn available(
        &mut self,
        level: LevelId,
    ) -> impl Future<Output = Result<i64, DbError>> + Send + '_ {
        self.execute(Statement::Available { level })
            .then_read(|reply| match reply {
                Reply::Value(v) => v,
                other => panic!("the available-quantity query answered {other}"),
            })
    }

    /// `INSERT INTO reservation (inventory_level_id, quantity)`.
    pub fn insert_reservation(
        &mut self,
        level: LevelId,
        quantity: i64,
    ) -> impl Future<Output = Result<(), DbError>> + Send + '_ {
        self.execute(Statement::InsertReservation { level, quantity })
            .then_read(drop)
    }

    /// `INSERT INTO sale (order_id)`: `order`'s sale (0-based), under a
    /// primary key, so that inserting it twice fails (23505; MariaDB 1062).
    pub fn insert_sale(
        &mut self,
        order: u32,
    ) -> impl Future<Output = Result<(), DbError>> + Send + '_ {
        self.execute(Statement::InsertSale { order })
            .then_read(drop)
    }

    /// `SELECT pg_advisory_xact_lock(key)`: held until the transaction ends.
    pub fn advisory_lock(
        &mut self,
        key: u32,
    ) -> impl Future<Output = Result<(), DbError>> + Send + '_ {
        self.execute(Statement::AdvisoryLock { key })
            .then_read(drop)
    }

    /// Takes an in-process lock (see [`Connection::process_lock`]).
    pub async fn process_lock(&mut self, key: u64) {
        self.connection().process_lock(key).await
    }

    pub fn process_unlock(&mut self, key: u64) {
        self.connection().process_unlock(key)
    }

    /// Asks the lease-lock service for lease `key` for `ttl_ms`: its
    /// fencing token if granted, `None` if another holds it (this never
    /// waits: poll with [`Session::sleep`] between tries).
    pub async fn lease_acquire(&mut self, key: u64, ttl_ms: u64) -> Option<u64> {
        let token = self
            .connection()
            .lease(LeaseCall::Acquire { key, ttl_ms })
            .await;
        (token != 0).then_some(token)
    }

    /// Extends lease `key` (granted with `token`) to `ttl_ms` from now;
    /// `false` if it ran out meanwhile (and may be another's).
    pub async fn lease_renew(&mut self, key: u64, token: u64, ttl_ms: u64) -> bool {
        let call = LeaseCall::Renew { key, token, ttl_ms };
        self.connection().lease(call).await != 0
    }

    /// Releases lease `key` (granted with `token`); `false` if it had
    /// already run out.
    pub async fn lease_release(&mut self, key: u64, token: u64) -> bool {
        let call = LeaseCall::Release { key, token };
        self.connection().lease(call).await != 0
    }
}

/// A statement on its way: the future [`Session::execute`] returns, a
/// named type rather than an `async` block so that a statement costs one
/// poll of the connection and no layer of its own.
pub struct Execute<'a> {
    connection: &'a mut dyn Connection,
    /// Until the first poll sends it.
    statement: Option<Statement>,
}

impl Future for Execute<'_> {
    type Output = Result<Reply, DbError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.connection.poll_execute(cx, &mut this.statement)
    }
}

impl<'a> Execute<'a> {
    /// This statement, its reply turned into what a helper returns.
    fn then_read<T, F: FnOnce(Reply) -> T + Unpin>(self, read: F) -> ThenRead<'a, F> {
        ThenRead {
            execute: self,
            read: Some(read),
        }
    }
}

/// A statement whose reply a typed helper of [`Session`] reads.
struct ThenRead<'a, F> {
    execute: Execute<'a>,
    read: Option<F>,
}

impl<T, F: FnOnce(Reply) -> T + Unpin> Future for ThenRead<'_, F> {
    type Output = Result<T, DbError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let reply = std::task::ready!(Pin::new(&mut this.execute).poll(cx));
        let read = this
            .read
            .take()
            .expect("a statement's future polled after it ended");
        Poll::Ready(reply.map(read))
    }
}
