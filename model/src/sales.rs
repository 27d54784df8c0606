//! The `sale` table, `order_id` its primary key: what an idempotent path
//! inserts in the transaction of its decrement, so that a retry after a
//! lost reply can tell that it already sold (the insert fails on the key).
//! Both stores keep it the same way; only the error differs (PostgreSQL's
//! 23505 aborts the transaction, MariaDB's 1062 only the statement).
//!
//! Simplification: a key inserted by another transaction still open counts
//! as a duplicate at once (PostgreSQL and InnoDB would wait for that
//! transaction to end). Nothing in the harness makes two transactions
//! insert one order's sale at a time: a dead connection's transaction is
//! rolled back before its order sends anything again.

use crate::event::SessionId;

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Sales {
    /// (order id, inserting session, committed).
    rows: Vec<(u32, SessionId, bool)>,
}

impl Sales {
    pub fn clear(&mut self) {
        self.rows.clear();
    }

    /// Inserts `order`'s sale for `session`'s transaction; false when the
    /// key is taken.
    pub fn insert(&mut self, order: u32, session: SessionId) -> bool {
        if self.rows.iter().any(|(o, _, _)| *o == order) {
            return false;
        }
        self.rows.push((order, session, false));
        true
    }

    /// `session`'s transaction ended: its rows stay (committed) or go.
    pub fn end(&mut self, session: SessionId, commit: bool) {
        if commit {
            for row in self.rows.iter_mut().filter(|r| r.1 == session) {
                row.2 = true;
            }
        } else {
            self.rows.retain(|r| r.1 != session || r.2);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::event::{Progress, SessionId, StoreConfig};
    use crate::innodb::{InnoDbConfig, InnoDbStore};
    use crate::statement::{Isolation, Reply, Row, Statement};
    use crate::{DbError, Store};

    const T1: SessionId = SessionId(0);
    const T2: SessionId = SessionId(1);

    /// Both stores: a sale row a rolled-back transaction inserted is gone,
    /// a committed one makes the next insert of its order fail, with
    /// PostgreSQL's 23505 aborting the transaction and MariaDB's 1062 only
    /// the statement.
    #[test]
    fn a_committed_sale_makes_its_second_insert_fail() {
        let rows = [Row {
            stocked: 1,
            ..Row::default()
        }];
        let mut postgres = Store::new(&rows, 2, StoreConfig::default());
        let mut innodb = InnoDbStore::new(&rows, 2, InnoDbConfig::default());
        let mut run = |session, statement| {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            postgres.execute(session, statement, &mut a);
            innodb.execute(session, statement, &mut b);
            (
                a[0].progress,
                b[0].progress,
                postgres.in_transaction(session),
                innodb.in_transaction(session),
            )
        };
        let sale = Statement::InsertSale { order: 0 };
        let begin = Statement::Begin(Isolation::ReadCommitted);
        run(T1, begin);
        run(T1, sale);
        run(T1, Statement::Rollback);
        run(T2, begin);
        let (p, i, _, _) = run(T2, sale);
        assert_eq!(
            (p, i),
            (
                Progress::Done(Ok(Reply::Insert)),
                Progress::Done(Ok(Reply::Insert))
            )
        );
        run(T2, Statement::Commit);
        run(T1, begin);
        let (p, i, p_open, i_open) = run(T1, sale);
        assert_eq!(p, Progress::Done(Err(DbError::UNIQUE_VIOLATION)));
        assert_eq!(i, Progress::Done(Err(DbError::MARIADB_DUPLICATE_KEY)));
        assert!(
            p_open && i_open,
            "both stay in the transaction until ROLLBACK"
        );
        let (p, i, _, _) = run(
            T1,
            Statement::Select {
                level: crate::LevelId(0),
                lock: crate::Lock::None,
            },
        );
        assert_eq!(
            p,
            Progress::Done(Err(DbError::IN_FAILED_TRANSACTION)),
            "23505 aborted it"
        );
        assert!(
            matches!(i, Progress::Done(Ok(_))),
            "1062 rolled back only the statement"
        );
    }
}
