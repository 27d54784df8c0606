//! `stockrace strategies` (each built-in with what it does) and `stockrace
//! scenarios` (the example scenario files with their first comment line).

use super::out::outln;
use super::Bad;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use stockrace::strategies::Effect;
use stockrace::Strategies;

/// One line per built-in strategy: what its decrement path does.
const DESCRIPTIONS: [(&str, &str); 16] = [
    (
        "plain-update",
        "read, then write back the absolute value read - q (lost updates, oversells)",
    ),
    (
        "optimistic",
        "write only if the version read is unchanged; retry with backoff when it changed",
    ),
    ("row-lock", "SELECT ... FOR UPDATE, check, then write"),
    (
        "guarded-decrement",
        "UPDATE ... SET stocked = stocked - q WHERE stocked >= q, in one statement",
    ),
    (
        "atomic-decrement",
        "check with a SELECT, then a relative decrement (the check can be stale)",
    ),
    (
        "serializable-retry",
        "plain-update at SERIALIZABLE, retried on 40001 and 40P01",
    ),
    (
        "reservation",
        "Medusa's createReservationItems: reservation row + absolute reserved_quantity write",
    ),
    (
        "reservation-insert-only",
        "check stocked - SUM(reservation rows), then insert a reservation row",
    ),
    (
        "medusa-update-levels",
        "Medusa's updateInventoryLevelsStep: unlocked read, absolute write, compensation",
    ),
    (
        "medusa-adjust",
        "Medusa's adjustInventory: read and write read - q, no lock, no floor at zero",
    ),
    (
        "medusa-adjust-locked",
        "medusa-adjust under an in-process lock per item (one app node only)",
    ),
    (
        "advisory-lock",
        "pg_advisory_xact_lock per level, then check and write the absolute value (PostgreSQL only)",
    ),
    (
        "retry-on-error",
        "guarded-decrement retried on any error, a lost COMMIT reply included (applies twice)",
    ),
    (
        "idempotent",
        "guarded-decrement + INSERT INTO sale (order_id) in one transaction; a retry that hits the key knows it sold",
    ),
    (
        "lease-lock",
        "check and write the absolute value under a lease (TTL) from a lock service; a holder paused past the TTL writes stale",
    ),
    (
        "lease-lock-fenced",
        "lease-lock whose write checks the lease's fencing token in the row; a stale holder is turned away and starts over",
    ),
];

pub fn strategies() -> Result<ExitCode, Bad> {
    let registry = Strategies::builtin();
    let width = Strategies::BUILTIN
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(0);
    for name in Strategies::BUILTIN {
        let effect = match registry.get(name).map(|s| s.effect()) {
            Some(Effect::Reserves) => "reserves  ",
            _ => "decrements",
        };
        let description = DESCRIPTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, d)| *d);
        let recovers = if registry.get(name).is_some_and(|s| s.recovers()) {
            " (recovers after a crash with --restart)"
        } else {
            ""
        };
        outln!("{name:<width$}  {effect}  {description}{recovers}");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ScenariosArgs {
    /// The directory of scenario files.
    #[arg(default_value = "scenarios")]
    pub dir: PathBuf,
}

/// Each `*.toml` in the directory, sorted, with its first comment line.
pub fn scenarios(args: ScenariosArgs) -> Result<ExitCode, Bad> {
    let bad = |e: std::io::Error| {
        Bad(format!(
            "{}: cannot list scenario files: {e}",
            args.dir.display()
        ))
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .map_err(bad)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    for (path, name) in files.iter().zip(&names) {
        let text =
            std::fs::read_to_string(path).map_err(|e| Bad(format!("{name}: cannot read: {e}")))?;
        let comment = text
            .lines()
            .find_map(|l| l.trim().strip_prefix('#'))
            .map_or("", str::trim);
        outln!("{name:<width$}  {comment}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_is_described() {
        for name in stockrace::Strategies::BUILTIN {
            assert!(
                super::DESCRIPTIONS.iter().any(|(n, _)| *n == name),
                "{name}"
            );
        }
    }
}
