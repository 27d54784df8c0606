//! The model of the scenario's database, whichever it is: what a single run,
//! `diff` and `check` run on. A sweep's hot loop does not come through here:
//! it runs on the concrete store, so each database's calls stay direct.

use super::{Backend, WaitDeadlines, WaitSettings};
use crate::chooser::StateKey;
use stockrace_model::innodb::{InnoDbConfig, InnoDbStore};
use stockrace_model::{
    Database, Event, LevelId, Row, RowView, SessionId, Statement, Store, StoreConfig,
};

/// A model store of one of the databases stockrace models.
#[derive(Clone, Debug)]
pub enum ModelStore {
    Postgres(Store),
    InnoDb(InnoDbStore),
}

/// Settings of the model stores that a scenario sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelSettings {
    pub database: Database,
    /// `CHECK (stocked_quantity >= 0)`.
    pub check_nonnegative: bool,
    /// MariaDB's `innodb_snapshot_isolation`.
    pub innodb_snapshot_isolation: bool,
}

impl ModelSettings {
    pub fn postgres(&self) -> StoreConfig {
        StoreConfig {
            check_nonnegative: self.check_nonnegative,
        }
    }

    pub fn innodb(&self) -> InnoDbConfig {
        InnoDbConfig {
            check_nonnegative: self.check_nonnegative,
            snapshot_isolation: self.innodb_snapshot_isolation,
            ..InnoDbConfig::default()
        }
    }
}

impl ModelStore {
    /// A fresh store of `settings.database` holding `rows`.
    pub fn new(rows: &[Row], sessions: usize, settings: ModelSettings) -> ModelStore {
        match settings.database {
            Database::Postgres15 => {
                ModelStore::Postgres(Store::new(rows, sessions, settings.postgres()))
            }
            Database::MariaDb1011 => {
                ModelStore::InnoDb(InnoDbStore::new(rows, sessions, settings.innodb()))
            }
        }
    }

    pub fn database(&self) -> Database {
        match self {
            ModelStore::Postgres(_) => Database::Postgres15,
            ModelStore::InnoDb(_) => Database::MariaDb1011,
        }
    }
}

/// Calls `$call` on whichever store it is.
macro_rules! each {
    ($self:expr, $store:ident => $call:expr) => {
        match $self {
            ModelStore::Postgres($store) => $call,
            ModelStore::InnoDb($store) => $call,
        }
    };
}

impl Backend for ModelStore {
    fn execute(&mut self, session: SessionId, statement: Statement, out: &mut Vec<Event>) {
        each!(self, s => Backend::execute(s, session, statement, out))
    }

    fn wait_deadlines(
        &self,
        session: SessionId,
        began_ms: u64,
        settings: WaitSettings,
    ) -> WaitDeadlines {
        each!(self, s => s.wait_deadlines(session, began_ms, settings))
    }

    fn deadlock_check(&mut self, session: SessionId, out: &mut Vec<Event>) {
        each!(self, s => Backend::deadlock_check(s, session, out))
    }

    fn wait_timed_out(&mut self, session: SessionId, out: &mut Vec<Event>) {
        each!(self, s => s.wait_timed_out(session, out))
    }

    fn in_transaction(&self, session: SessionId) -> bool {
        each!(self, s => Backend::in_transaction(s, session))
    }

    fn open_transactions(&self) -> usize {
        each!(self, s => Backend::open_transactions(s))
    }

    fn waits_for(&self, session: SessionId) -> Option<SessionId> {
        each!(self, s => Backend::waits_for(s, session))
    }

    fn row(&self, level: LevelId) -> RowView {
        each!(self, s => Backend::row(s, level))
    }

    fn committed_rows(&self) -> Vec<Row> {
        each!(self, s => Backend::committed_rows(s))
    }

    fn committed_reservations(&self, level: LevelId) -> i64 {
        each!(self, s => Backend::committed_reservations(s, level))
    }

    fn state_key(&self) -> Option<StateKey> {
        each!(self, s => s.state_key())
    }
}
