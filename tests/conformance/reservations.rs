//! Pattern g of the PostgreSQL 15 reference beyond its transcripts: check
//! what is available from the reservation rows, then insert one, in the
//! schedule they do not record, and with one writer only.

use super::*;

// ---- g) check available from reservation rows, then insert one ------------

fn available() -> Statement {
    Statement::Available { level: ID1 }
}
fn reserve(q: i64) -> Statement {
    Statement::InsertReservation {
        level: ID1,
        quantity: q,
    }
}

/// S1: T1 commits before T2 inserts (the transcripts record S2, where both
/// insert first: tests/conformance_postgres_transcripts.rs replays it).
/// At SERIALIZABLE T2's write closes the dangerous structure after T1
/// committed: 40001 at the write rather than at COMMIT.
pub fn pattern_g_s1(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let serializable = iso == SER;
        let (t2_insert, t2_commit) = if serializable {
            ("T2 ERROR 40001", "T2 ROLLBACK")
        } else {
            ("T2 INSERT 0 1", "T2 COMMIT")
        };
        let reserved = if serializable { q } else { 2 * q };
        // Available afterwards: -1 / -1 (write skew), or 0 / 2 at SERIALIZABLE.
        let after = format!("T1 SELECT 1 ({})", s - reserved);
        let avail = [format!("T1 SELECT 1 ({s})"), format!("T2 SELECT 1 ({s})")];
        check(
            new,
            &label("g S1", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, available(), &[avail[0].as_str()]),
                (2, available(), &[avail[1].as_str()]),
                (1, reserve(q), &["T1 INSERT 0 1"]),
                (1, COMMIT, &["T1 COMMIT"]),
                (2, reserve(q), &[t2_insert]),
                (2, COMMIT, &[t2_commit]),
                (1, available(), &[after.as_str()]),
            ],
            [row(s, 0), row(s, 0)],
        );
    }
}

pub fn g_check_then_insert_reservation_s1_read_committed(new: NewBackend) {
    pattern_g_s1(new, RC)
}
pub fn g_check_then_insert_reservation_s1_repeatable_read(new: NewBackend) {
    pattern_g_s1(new, RR)
}
pub fn g_check_then_insert_reservation_s1_serializable(new: NewBackend) {
    pattern_g_s1(new, SER)
}

/// SERIALIZABLE: if only one of the two transactions writes, nothing aborts.
pub fn g_serializable_with_one_writer_aborts_nothing(new: NewBackend) {
    check(
        new,
        "g one writer",
        StoreConfig::default(),
        1,
        &[
            (1, begin(SER), &["T1 BEGIN"]),
            (2, begin(SER), &["T2 BEGIN"]),
            (1, available(), &["T1 SELECT 1 (1)"]),
            (2, available(), &["T2 SELECT 1 (1)"]),
            (1, reserve(1), &["T1 INSERT 0 1"]),
            (1, COMMIT, &["T1 COMMIT"]),
            (2, COMMIT, &["T2 COMMIT"]),
        ],
        [row(1, 0), row(1, 0)],
    );
}
