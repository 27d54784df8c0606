//! Pattern b of the PostgreSQL 15 reference in the schedule its transcripts
//! do not record: the version CAS in S1 (T1 commits before T2 writes), at
//! every isolation level. The recorded schedules of patterns a-c (a and a2,
//! b in S2, b2, c and c2) are replayed from the transcripts themselves by
//! tests/conformance_postgres_transcripts.rs.

use super::*;

// ---- b) version CAS, S1 ------------------------------------------------------

pub fn pattern_b_version_s1(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        // The table: "S1: T2 gets UPDATE 0 without waiting" (RC); 40001 otherwise.
        let t2_write: &[&str] = if iso == RC {
            &["T2 UPDATE 0"]
        } else {
            &["T2 ERROR 40001"]
        };
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("b S1", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, cas_version(s - q, 0), &["T1 UPDATE 1"]),
                (1, COMMIT, &["T1 COMMIT"]),
                (2, cas_version(s - q, 0), t2_write),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 1), row(s, 0)],
        );
    }
}

pub fn b_version_cas_s1_read_committed(new: NewBackend) {
    pattern_b_version_s1(new, RC)
}
pub fn b_version_cas_s1_repeatable_read(new: NewBackend) {
    pattern_b_version_s1(new, RR)
}
pub fn b_version_cas_s1_serializable(new: NewBackend) {
    pattern_b_version_s1(new, SER)
}
