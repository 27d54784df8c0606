//! Every Builder call that panics points the panic at the test's own line
//! (`#[track_caller]`), not into stockrace. One test in its own binary: it
//! sets the process's panic hook to read each panic's location.

use std::panic::{self, AssertUnwindSafe, Location};
use std::path::Path;
use std::sync::{Arc, Mutex};
use stockrace::{Builder, Execution, Isolation, Report, Scenario, Strategy};

async fn panics(_: stockrace::Session, _: stockrace::Order) -> stockrace::StrategyResult {
    panic!("a bug in the strategy")
}

#[test]
fn panics_point_at_the_calling_line() {
    let seen: Arc<Mutex<Option<(String, u32)>>> = Arc::default();
    let record = seen.clone();
    panic::set_hook(Box::new(move |info| {
        let location = info.location().unwrap();
        *record.lock().unwrap() = Some((location.file().to_string(), location.line()));
    }));
    let dir = tempfile::tempdir().unwrap();
    let file = Location::caller().file(); // this file, as the compiler names it
    let mut failures = Vec::new();
    let mut check = |what: &str, line: u32, f: &mut dyn FnMut()| {
        *seen.lock().unwrap() = None;
        assert!(
            panic::catch_unwind(AssertUnwindSafe(f)).is_err(),
            "{what} must panic"
        );
        let got = seen.lock().unwrap().clone();
        if got != Some((file.to_string(), line)) {
            failures.push(format!("{what}: panicked at {got:?}, not {file}:{line}"));
        }
    };
    let holds = Builder::builtin("guarded-decrement")
        .seeds(5)
        .seeds_dir(dir.path())
        .run();
    let violates = Builder::builtin("plain-update")
        .seeds(5)
        .seeds_dir(dir.path())
        .run();
    let scenario = Scenario::single("row-lock", 2, 1, 1, Isolation::ReadCommitted);

    calls(&mut check, &holds, &violates, &scenario, dir.path());
    let _ = panic::take_hook();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

type Check<'a> = dyn FnMut(&str, u32, &mut dyn FnMut()) + 'a;

/// Each panicking call, one per line, so that the line is the call's
/// (rustfmt would spread the chains over several).
#[rustfmt::skip]
fn calls(check: &mut Check, holds: &Report, violates: &Report, scenario: &Scenario, dir: &Path) {
    check("builtin", line!(), &mut || { Builder::builtin("no-such-path"); });
    check("assert_holds", line!(), &mut || violates.assert_holds());
    check("assert_violates", line!(), &mut || { holds.assert_violates(); });
    check("bad shape", line!(), &mut || { Builder::builtin("row-lock").orders(0).run(); });
    check("simulation", line!(), &mut || { Builder::builtin("row-lock").stock(-1).simulation(); });
    check("shape and scenario", line!(), &mut || { Builder::builtin("row-lock").scenario(scenario.clone()).items(2).run(); });
    check("scenario file", line!(), &mut || { Builder::builtin("row-lock").scenario_file("no/such.toml"); });
    check("invariant", line!(), &mut || { Builder::builtin("row-lock").invariant("termination", |_: &Execution| true); });
    check("isolations", line!(), &mut || { Builder::builtin("row-lock").isolations([]); });
    check("replay", line!(), &mut || { stockrace::replay(Strategy::new("x", panics), "no/such.toml"); });
    check("replay_file", line!(), &mut || { Builder::builtin("row-lock").replay_file("no/such.toml"); });
    check("replay schedule", line!(), &mut || { Builder::builtin("row-lock").orders(0).replay(&[0]); });
    check("compare", line!(), &mut || { Builder::builtin("row-lock").seeds(3).compare([Strategy::new("x", panics)]); });
    check("panicking strategy", line!(), &mut || Builder::new(Strategy::new("x", panics)).seeds(3).seeds_dir(dir).run().assert_holds());
}
