//! Pattern g of the PostgreSQL 15 reference: check what is available from
//! the reservation rows, then insert one, at every isolation level.

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

/// Runs pattern g and returns the store, for the reservation check.
pub fn pattern_g(new: NewBackend, iso: Isolation, s1: bool) {
    for (s, q) in PAIRS {
        let avail = [format!("T1 SELECT 1 ({s})"), format!("T2 SELECT 1 ({s})")];
        let label = label(if s1 { "g S1" } else { "g S2" }, iso, s, q);
        let mut store = new(&[row(s, 0), row(s, 0)], 2, StoreConfig::default());
        let mut out = Vec::new();
        let mut step =
            |store: &mut Box<dyn Backend>, t: u32, statement: Statement| -> Vec<String> {
                out.clear();
                store.execute(SessionId(t - 1), statement, &mut out);
                describe(&out)
            };
        step(&mut store, 1, begin(iso));
        step(&mut store, 2, begin(iso));
        assert_eq!(
            step(&mut store, 1, available()),
            [avail[0].as_str()],
            "{label}"
        );
        assert_eq!(
            step(&mut store, 2, available()),
            [avail[1].as_str()],
            "{label}"
        );
        assert_eq!(
            step(&mut store, 1, reserve(q)),
            ["T1 INSERT 0 1"],
            "{label}"
        );
        let serializable = iso == SER;
        if s1 {
            assert_eq!(step(&mut store, 1, COMMIT), ["T1 COMMIT"], "{label}");
            // S1: T2's write closes the structure after T1 committed: 40001 at the write.
            let t2_insert = if serializable {
                "T2 ERROR 40001"
            } else {
                "T2 INSERT 0 1"
            };
            assert_eq!(step(&mut store, 2, reserve(q)), [t2_insert], "{label}");
            let t2_commit = if serializable {
                "T2 ROLLBACK"
            } else {
                "T2 COMMIT"
            };
            assert_eq!(step(&mut store, 2, COMMIT), [t2_commit], "{label}");
        } else {
            // S2 (the transcript): both inserts succeed; T2 fails at COMMIT.
            assert_eq!(
                step(&mut store, 2, reserve(q)),
                ["T2 INSERT 0 1"],
                "{label}"
            );
            assert_eq!(step(&mut store, 1, COMMIT), ["T1 COMMIT"], "{label}");
            let t2_commit = if serializable {
                "T2 ERROR 40001"
            } else {
                "T2 COMMIT"
            };
            assert_eq!(step(&mut store, 2, COMMIT), [t2_commit], "{label}");
        }
        let reserved = if serializable { q } else { 2 * q };
        assert_eq!(store.committed_reservations(ID1), reserved, "{label}");
        // Available afterwards: -1 / -1 (write skew), or 0 / 2 at SERIALIZABLE.
        let after = step(&mut store, 1, available());
        assert_eq!(
            after,
            [format!("T1 SELECT 1 ({})", s - reserved)],
            "{label}"
        );
        assert_eq!(
            store.committed_rows(),
            vec![row(s, 0), row(s, 0)],
            "{label}"
        );
    }
}

pub fn g_check_then_insert_reservation_s2_read_committed(new: NewBackend) {
    pattern_g(new, RC, false)
}
pub fn g_check_then_insert_reservation_s2_repeatable_read(new: NewBackend) {
    pattern_g(new, RR, false)
}
pub fn g_check_then_insert_reservation_s2_serializable(new: NewBackend) {
    pattern_g(new, SER, false)
}
pub fn g_check_then_insert_reservation_s1_read_committed(new: NewBackend) {
    pattern_g(new, RC, true)
}
pub fn g_check_then_insert_reservation_s1_repeatable_read(new: NewBackend) {
    pattern_g(new, RR, true)
}
pub fn g_check_then_insert_reservation_s1_serializable(new: NewBackend) {
    pattern_g(new, SER, true)
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
