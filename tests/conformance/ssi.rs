//! Two SERIALIZABLE probes beyond patterns a-g, as PostgreSQL 15 answered
//! them (issue 16): the read-only rule of SSI, and the granularity of the
//! SIREAD lock the availability query takes on `reservation`.

use super::*;

const ID2: LevelId = LevelId(1);

fn select_of(level: LevelId) -> Statement {
    Statement::Select {
        level,
        lock: Lock::None,
    }
}

/// T1 reads both rows; T2 adds 5 to row 2; T3 reads both rows (before T2
/// commits); T2 and T3 commit; T1 then sets row 1 to 0 and commits. The
/// rw-edges make T1 a pivot (T3 -> T1 -> T2, T2 committed first), but T3
/// committed without writing and took its snapshot before T2 committed:
/// the history is serializable as T3, T1, T2, and PostgreSQL commits T1.
pub fn ssi_read_only_reader_is_no_danger(new: NewBackend) {
    let add_five = Statement::Update(Update {
        stocked: Assign::Add(5),
        ..Update::new(ID2)
    });
    let zero = Statement::Update(Update {
        stocked: Assign::Set(0),
        ..Update::new(ID1)
    });
    check(
        new,
        "SSI read-only reader",
        StoreConfig::default(),
        1,
        &[
            (1, begin(SER), &["T1 BEGIN"]),
            (1, select_of(ID1), &["T1 SELECT 1 (1,0,0)"]),
            (1, select_of(ID2), &["T1 SELECT 1 (1,0,0)"]),
            (2, begin(SER), &["T2 BEGIN"]),
            (2, add_five, &["T2 UPDATE 1"]),
            (3, begin(SER), &["T3 BEGIN"]),
            (3, select_of(ID1), &["T3 SELECT 1 (1,0,0)"]),
            (3, select_of(ID2), &["T3 SELECT 1 (1,0,0)"]),
            (2, COMMIT, &["T2 COMMIT"]),
            (3, COMMIT, &["T3 COMMIT"]),
            (1, zero, &["T1 UPDATE 1"]),
            (1, COMMIT, &["T1 COMMIT"]),
        ],
        [row(0, 0), row(6, 0)],
    );
}

/// T1 and T2 each check the availability of a different level, each insert
/// a reservation for its own level, and commit. With no index on
/// `reservation.inventory_level_id` the availability query scans the table,
/// so its SIREAD lock covers the relation: each insert conflicts with the
/// other's read, and PostgreSQL fails T2's COMMIT with 40001.
pub fn ssi_reservation_reads_lock_the_whole_table(new: NewBackend) {
    let available = |level| Statement::Available { level };
    let reserve = |level| Statement::InsertReservation { level, quantity: 1 };
    check(
        new,
        "SSI reservation table lock",
        StoreConfig::default(),
        1,
        &[
            (1, begin(SER), &["T1 BEGIN"]),
            (2, begin(SER), &["T2 BEGIN"]),
            (1, available(ID1), &["T1 SELECT 1 (1)"]),
            (2, available(ID2), &["T2 SELECT 1 (1)"]),
            (1, reserve(ID1), &["T1 INSERT 0 1"]),
            (2, reserve(ID2), &["T2 INSERT 0 1"]),
            (1, COMMIT, &["T1 COMMIT"]),
            (2, COMMIT, &["T2 ERROR 40001"]),
        ],
        [row(1, 0), row(1, 0)],
    );
}
