//! Patterns a-c of the PostgreSQL 15 reference (read, then write: an
//! absolute value, a compare-and-set, under FOR UPDATE), schedules S1 and
//! S2, at every isolation level.

use super::*;

// ---- a) read, then absolute write ------------------------------------------

pub fn pattern_a_s1(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        let t2_write: &[&str] = if iso == RC {
            &["T2 UPDATE 1"]
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
            &label("a S1", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, set(s - q), &["T1 UPDATE 1"]),
                (1, COMMIT, &["T1 COMMIT"]),
                (2, set(s - q), t2_write),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

pub fn pattern_a_s2(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        let after: &[&str] = if iso == RC {
            &["T1 COMMIT", "T2 UPDATE 1 (resumed)"]
        } else {
            &["T1 COMMIT", "T2 ERROR 40001 (resumed)"]
        };
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("a S2", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, set(s - q), &["T1 UPDATE 1"]),
                (2, set(s - q), &["T2 waits"]),
                (1, COMMIT, after),
                (2, COMMIT, t2_commit),
            ],
            // RC: both sold, stock shows one sale (the lost update).
            [row(s - q, 0), row(s, 0)],
        );
    }
}

pub fn a_read_then_absolute_write_s1_read_committed(new: NewBackend) {
    pattern_a_s1(new, RC)
}
pub fn a_read_then_absolute_write_s1_repeatable_read(new: NewBackend) {
    pattern_a_s1(new, RR)
}
pub fn a_read_then_absolute_write_s1_serializable(new: NewBackend) {
    pattern_a_s1(new, SER)
}
pub fn a_read_then_absolute_write_s2_read_committed(new: NewBackend) {
    pattern_a_s2(new, RC)
}
pub fn a_read_then_absolute_write_s2_repeatable_read(new: NewBackend) {
    pattern_a_s2(new, RR)
}
pub fn a_read_then_absolute_write_s2_serializable(new: NewBackend) {
    pattern_a_s2(new, SER)
}

// ---- b) version CAS, b') value CAS -----------------------------------------

pub fn pattern_b_version_s2(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        let after: &[&str] = if iso == RC {
            &["T1 COMMIT", "T2 UPDATE 0 (resumed)"]
        } else {
            &["T1 COMMIT", "T2 ERROR 40001 (resumed)"]
        };
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("b S2", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, cas_version(s - q, 0), &["T1 UPDATE 1"]),
                (2, cas_version(s - q, 0), &["T2 waits"]),
                (1, COMMIT, after),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 1), row(s, 0)],
        );
    }
}

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

pub fn pattern_b_value_s1(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
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
            &label("b' S1", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read]),
                (2, select(), &[&read2]),
                (1, cas_value(s - q, s), &["T1 UPDATE 1"]),
                (1, COMMIT, &["T1 COMMIT"]),
                (2, cas_value(s - q, s), t2_write),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
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
pub fn b_version_cas_s2_read_committed(new: NewBackend) {
    pattern_b_version_s2(new, RC)
}
pub fn b_version_cas_s2_repeatable_read(new: NewBackend) {
    pattern_b_version_s2(new, RR)
}
pub fn b_version_cas_s2_serializable(new: NewBackend) {
    pattern_b_version_s2(new, SER)
}
pub fn b_value_cas_s1_read_committed(new: NewBackend) {
    pattern_b_value_s1(new, RC)
}
pub fn b_value_cas_s1_repeatable_read(new: NewBackend) {
    pattern_b_value_s1(new, RR)
}
pub fn b_value_cas_s1_serializable(new: NewBackend) {
    pattern_b_value_s1(new, SER)
}

// ---- c) SELECT ... FOR UPDATE, then UPDATE ---------------------------------

pub fn pattern_c(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let lock1 = format!("T1 {}", sel(s, 0));
        let resumed_rc = format!("T2 {} (resumed)", sel(s - q, 0));
        let after: Vec<&str> = if iso == RC {
            vec!["T1 COMMIT", &resumed_rc]
        } else {
            vec!["T1 COMMIT", "T2 ERROR 40001 (resumed)"]
        };
        // The application now decides on the row it got: at RC it sees too
        // little and sells nothing; at RR/SER its next statement gets 25P02.
        let app: Vec<String> = if iso == RC {
            vec![format!("T2 {}", sel(s - q, 0))]
        } else {
            vec!["T2 ERROR 25P02".into()]
        };
        let app: Vec<&str> = app.iter().map(String::as_str).collect();
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("c", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, for_update(), &[&lock1]),
                (2, for_update(), &["T2 waits"]),
                (1, set(s - q), &["T1 UPDATE 1"]),
                (1, COMMIT, &after),
                (2, select(), &app),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

/// c2: T2 reads first (plain), then asks for the lock after T1 wrote.
pub fn pattern_c2(new: NewBackend, iso: Isolation) {
    for (s, q) in PAIRS {
        let read1 = format!("T1 {}", sel(s, 0));
        let read2 = format!("T2 {}", sel(s, 0));
        let resumed_rc = format!("T2 {} (resumed)", sel(s - q, 0));
        let after: Vec<&str> = if iso == RC {
            vec!["T1 COMMIT", &resumed_rc]
        } else {
            vec!["T1 COMMIT", "T2 ERROR 40001 (resumed)"]
        };
        let t2_commit: &[&str] = if iso == RC {
            &["T2 COMMIT"]
        } else {
            &["T2 ROLLBACK"]
        };
        check(
            new,
            &label("c2", iso, s, q),
            StoreConfig::default(),
            s,
            &[
                (1, begin(iso), &["T1 BEGIN"]),
                (2, begin(iso), &["T2 BEGIN"]),
                (1, select(), &[&read1]),
                (2, select(), &[&read2]),
                (1, for_update(), &[&read1]),
                (1, set(s - q), &["T1 UPDATE 1"]),
                (2, for_update(), &["T2 waits"]),
                (1, COMMIT, &after),
                (2, COMMIT, t2_commit),
            ],
            [row(s - q, 0), row(s, 0)],
        );
    }
}

pub fn c_select_for_update_read_committed(new: NewBackend) {
    pattern_c(new, RC)
}
pub fn c_select_for_update_repeatable_read(new: NewBackend) {
    pattern_c(new, RR)
}
pub fn c_select_for_update_serializable(new: NewBackend) {
    pattern_c(new, SER)
}
pub fn c2_plain_read_then_for_update_read_committed(new: NewBackend) {
    pattern_c2(new, RC)
}
pub fn c2_plain_read_then_for_update_repeatable_read(new: NewBackend) {
    pattern_c2(new, RR)
}
pub fn c2_plain_read_then_for_update_serializable(new: NewBackend) {
    pattern_c2(new, SER)
}
