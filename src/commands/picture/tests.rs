//! The pictures without a browser: what the story reads from a trace,
//! where the layout puts it, what long runs leave out, escaping, and the
//! same bytes for the same run.

use super::layout::{self, kept, wrap, Layout, AROUND, HEAD, MAX_LANES, TAIL};
use super::story::{Kind, Lane, Mark, Step, Story, Wait};
use super::svg::HIGHLIGHT;
use super::{caption, svg_file};
use stockrace::scenario::Shape;
use stockrace::{Execution, Scenario, Simulation, Strategies};

fn run(strategy: &str, orders: usize, seed: u64) -> (Execution, Scenario) {
    let scenario = Shape {
        orders,
        ..Shape::new(strategy)
    }
    .scenario();
    let simulation = Simulation::new(scenario, &Strategies::builtin()).expect("a scenario");
    (simulation.run_seed(seed), simulation.scenario().clone())
}

fn svg_of(strategy: &str, orders: usize, seed: u64) -> String {
    let (execution, scenario) = run(strategy, orders, seed);
    let caption = caption("a title", &execution, &scenario, None);
    svg_file(&Story::new(&execution, &scenario), &caption)
}

/// A made-up story: `n` steps taking turns over `lanes` lanes.
fn story(lanes: usize, n: usize, violation: Option<usize>) -> Story {
    Story {
        lanes: (0..lanes)
            .map(|i| Lane {
                name: format!("T{}", i + 1),
                detail: "plain-update · node 0 · read-committed".into(),
            })
            .collect(),
        steps: (0..n)
            .map(|i| Step {
                step: i + 1,
                time_ms: 0,
                lane: i % lanes,
                kind: Kind::Statement,
                text: format!("statement {}", i + 1),
                result: "UPDATE 1".into(),
                value: None,
            })
            .collect(),
        waits: Vec::new(),
        violation: violation.map(|at| Mark {
            at,
            sentence: format!("no-oversell violated at step {}: it broke", at + 1),
        }),
        verdict: "verdict: as it was".into(),
        finals: vec!["final: id=1 stocked=0".into()],
        timed: false,
        trace_len: n,
    }
}

#[test]
fn the_story_of_a_lost_update_has_its_lanes_its_wait_and_its_violation() {
    // Seed 0 of 2 plain-update orders: T1 waits for T2's row lock, then
    // both sell the one unit (see `replay --strategy plain-update --seed 0`).
    let (execution, scenario) = run("plain-update", 2, 0);
    let story = Story::new(&execution, &scenario);
    let names: Vec<&str> = story.lanes.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["T1", "T2"]);
    assert_eq!(
        story.lanes[0].detail,
        "plain-update · node 0 · read-committed"
    );
    assert_eq!(
        story.steps.len(),
        execution.trace.len(),
        "no sleeps without latency"
    );
    let wait = &story.waits[0];
    assert_eq!((wait.lane, wait.on.as_str()), (0, "T2"));
    assert_eq!(story.steps[wait.from].kind, Kind::Waiting);
    let resumed = &story.steps[wait.to.expect("it resumed")];
    assert!(resumed.text.starts_with("(resumed) UPDATE"), "{resumed:?}");
    assert!(story.steps.iter().any(|s| s.kind == Kind::Commit));
    let mark = story.violation.as_ref().expect("a violation");
    let v = execution.verdict.violation().unwrap();
    assert_eq!(story.steps[mark.at].step, v.step);
    assert!(
        mark.sentence.starts_with("no-oversell violated at step"),
        "{}",
        mark.sentence
    );
    assert!(mark.sentence.contains(&v.detail));
    // The row column: committed value, and the other transaction's write.
    let values: Vec<_> = story
        .steps
        .iter()
        .filter_map(|s| s.value.as_ref())
        .collect();
    assert!(values.iter().any(|v| v.committed == "id=1 stocked=1"
        && v.uncommitted.as_deref() == Some("T2 uncommitted: stocked=0")));
}

#[test]
fn the_svg_draws_lanes_the_wait_and_highlights_the_violating_step() {
    let svg = svg_of("plain-update", 2, 0);
    for text in [
        ">T1<",
        ">T2<",
        "plain-update · node 0 · read-committed",
        "waits for T2",
        "class=\"sr-band\"",
        "no-oversell violated at step 11: 2 units of id=1 sold, but it had 1 available at the start",
        "T2 uncommitted: stocked=0",
        "verdict: VIOLATED",
    ] {
        assert!(svg.contains(text), "{text} missing from {svg}");
    }
    assert!(svg.contains(&format!(".sr-band{{fill:{HIGHLIGHT}")));
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    // A run that holds has no highlighted row.
    let holds = svg_of("guarded-decrement", 2, 0);
    assert!(!holds.contains("class=\"sr-band\""));
    assert!(holds.contains("verdict: every invariant held"));
}

#[test]
fn a_small_timeline_is_stable() {
    insta::assert_snapshot!("plain_update_seed_0", svg_of("plain-update", 2, 0));
}

#[test]
fn the_same_run_gives_the_same_bytes() {
    assert_eq!(svg_of("row-lock", 4, 7), svg_of("row-lock", 4, 7));
}

#[test]
fn text_is_escaped_everywhere() {
    let mut s = story(2, 3, Some(1));
    s.lanes[0].detail = "we<&\"'>ird".into();
    s.steps[0].text = "SELECT '<b>' & \"x\"".into();
    s.violation.as_mut().unwrap().sentence = "broke <script>".into();
    let caption = vec!["title <&\"'>".to_string(), "file a<&\"'>.toml".to_string()];
    let svg = super::svg::draw(&s, &Layout::new(&s, &caption)).into_string();
    assert!(svg.contains("we&lt;&amp;&quot;'&gt;ird"), "{svg}");
    assert!(
        svg.contains("SELECT '&lt;b&gt;' &amp; &quot;x&quot;"),
        "{svg}"
    );
    assert!(svg.contains("broke &lt;script&gt;"), "{svg}");
    assert!(svg.contains("a&lt;&amp;&quot;'&gt;.toml"), "{svg}");
    for raw in ["<&", "<b>", "<script>"] {
        assert!(!svg.contains(raw), "{raw} unescaped in {svg}");
    }
}

#[test]
fn long_runs_keep_the_head_the_violation_and_the_tail() {
    assert_eq!(kept(10, Some(3)).len(), 1);
    assert_eq!(kept(10, Some(3))[0], 0..10);
    assert_eq!(
        kept(1000, Some(500)),
        vec![0..HEAD, 500 - AROUND..500 + AROUND + 1, 1000 - TAIL..1000]
    );
    assert_eq!(kept(1000, None), vec![0..HEAD, 1000 - TAIL..1000]);
    // A violation near the start joins the head.
    assert_eq!(
        kept(1000, Some(HEAD + 5)),
        vec![0..HEAD + AROUND + 6, 1000 - TAIL..1000]
    );

    let s = story(2, 1000, Some(500));
    let l = Layout::new(&s, &["t".to_string()]);
    assert_eq!(l.rows.len(), HEAD + 2 * AROUND + 1 + TAIL);
    assert_eq!(l.gaps.len(), 2);
    let first_gap = 500 - AROUND - HEAD;
    assert_eq!(
        l.gaps[0].text,
        format!(
            "… {first_gap} step(s) not drawn (trace steps {} to {}) …",
            HEAD + 1,
            500 - AROUND
        )
    );
    assert!(
        l.rows.iter().any(|r| r.index == 500),
        "the violating step is drawn"
    );
    let band = l.band.as_ref().expect("highlighted");
    let row = l.rows.iter().find(|r| r.index == 500).unwrap();
    assert!(band.y <= row.y && band.y + band.height >= row.y + row.height);
    let footer: Vec<&str> = l.footer.iter().map(|(_, t)| t.as_str()).collect();
    let drawn = HEAD + 2 * AROUND + 1 + TAIL;
    assert!(
        footer
            .iter()
            .any(|t| t.starts_with(&format!("{drawn} of 1000 steps drawn"))),
        "{footer:?}"
    );
    // Rows go down the page in order, without overlapping.
    for pair in l.rows.windows(2) {
        assert!(pair[0].y + pair[0].height <= pair[1].y, "{pair:?}");
    }
    assert!(l.height > l.body_bottom);
}

#[test]
fn a_short_run_is_drawn_whole() {
    let s = story(2, 40, None);
    let l = Layout::new(&s, &["t".to_string()]);
    assert_eq!(l.rows.len(), 40);
    assert!(l.gaps.is_empty());
    assert!(
        !l.footer.iter().any(|(_, t)| t.contains("drawn")),
        "{:?}",
        l.footer
    );
}

#[test]
fn many_orders_get_lanes_up_to_the_limit_and_a_line_about_the_rest() {
    let s = story(MAX_LANES + 4, 100, None);
    let l = Layout::new(&s, &["t".to_string()]);
    assert_eq!(l.lane_x.len(), MAX_LANES);
    assert!(l.rows.iter().all(|r| s.steps[r.index].lane < MAX_LANES));
    let note = format!(
        "orders T{} to T{} are not drawn",
        MAX_LANES + 1,
        MAX_LANES + 4
    );
    assert!(
        l.footer.iter().any(|(_, t)| t.starts_with(&note)),
        "{:?}",
        l.footer
    );
    // Lanes sit side by side without overlapping, the row column after them.
    for pair in l.lane_x.windows(2) {
        assert!(pair[0] + l.lane_width < pair[1]);
    }
    assert!(l.lane_x.last().unwrap() + l.lane_width < l.value_x);
    // Each lane's detail fits its lane: wrapped, not spilled into the next.
    let chars = layout::lane_chars(MAX_LANES);
    assert_eq!(
        l.lane_detail[0],
        ["plain-update · node 0 ·", "read-committed"]
    );
    assert!(l
        .lane_detail
        .iter()
        .flatten()
        .all(|line| line.chars().count() <= chars));
    assert!(l.value_x < l.width);
}

#[test]
fn a_wait_is_a_bar_from_the_waiting_box_to_where_its_order_moves_again() {
    let mut s = story(2, 6, None);
    s.waits.push(Wait {
        lane: 0,
        from: 0,
        to: Some(4),
        on: "T2".into(),
    });
    s.waits.push(Wait {
        lane: 1,
        from: 5,
        to: None,
        on: "T1".into(),
    });
    let l = Layout::new(&s, &["t".to_string()]);
    let row = |i: usize| l.rows.iter().find(|r| r.index == i).unwrap();
    let bar = &l.bars[0];
    assert_eq!(
        (bar.y1, bar.y2, bar.open),
        (row(0).y + row(0).height, row(4).y, false)
    );
    assert_eq!((l.bars[1].y2, l.bars[1].open), (l.body_bottom, true));
}

#[test]
fn text_wraps_at_spaces_and_says_when_it_was_cut() {
    assert_eq!(
        wrap("UPDATE inventory_level SET x=1", 16, 4),
        ["UPDATE", "inventory_level", "SET x=1"]
    );
    assert_eq!(wrap("abcdefghij", 4, 4), ["abcd", "efgh", "ij"]);
    assert_eq!(wrap("a b c d e f", 3, 2), ["a b", "c …"]);
    assert_eq!(wrap("", 10, 2), [""]);
    assert_eq!(layout::text_width(10), 73);
    // In narrow lanes a SELECT's column list is cut to its first column.
    let select =
        "SELECT stocked_quantity, reserved_quantity, version FROM inventory_level WHERE id=1";
    assert_eq!(
        layout::shorten(select, 26),
        "SELECT stocked_quantity, … FROM inventory_level WHERE id=1"
    );
    assert_eq!(layout::shorten(select, 44), select);
}

// ---------------------------------------------------------------------------
// App runs (`stockrace app`): the story from a hand-built proxy trace.

use stockrace::adapters::app::trace::{Event, Trace};
use stockrace::adapters::app::{AppExecution, CheckViolation, OrderRecord, Outcome, Timing};

const SELECT: &str = "SELECT stocked_quantity >= 1 AS available, stocked_quantity - 1 AS remaining FROM inventory_level WHERE id = '?'";
const UPDATE: &str = "UPDATE inventory_level SET stocked_quantity = 0 WHERE id = '?'";

/// Seed 0 of examples/psql/read-then-write.toml, as the proxy recorded it
/// (kept as seeds/app/app-read-then-write-*.toml): T1's UPDATE waits for
/// T2's row lock, then writes the value it read; both sell the one unit.
/// Answers that arrive within a step come in any order; the trace sorts
/// them.
fn read_then_write() -> AppExecution {
    let mut trace = Trace::default();
    let released = |t: &mut Trace, order: usize, text: &str, result: Option<&str>| {
        t.push(Event::Released {
            conn: (order, 0),
            text: text.into(),
        });
        if let Some(result) = result {
            t.push(Event::Answered {
                conn: (order, 0),
                result: result.into(),
            });
        }
    };
    released(&mut trace, 1, "BEGIN", Some("BEGIN"));
    released(&mut trace, 0, "BEGIN", Some("BEGIN"));
    released(&mut trace, 1, SELECT, Some("SELECT 1"));
    released(&mut trace, 0, SELECT, Some("SELECT 1"));
    released(&mut trace, 1, UPDATE, Some("UPDATE 1"));
    released(&mut trace, 0, UPDATE, None);
    trace.push(Event::Waits {
        conn: (0, 0),
        on: vec!["T2.c1".into()],
    });
    released(&mut trace, 1, "COMMIT", None);
    trace.push(Event::Exited {
        order: 1,
        outcome: Outcome::Sold(1),
        status: "exit 0".into(),
    });
    trace.push(Event::Answered {
        conn: (0, 0),
        result: "UPDATE 1".into(),
    });
    trace.push(Event::Answered {
        conn: (1, 0),
        result: "COMMIT".into(),
    });
    released(&mut trace, 0, "COMMIT", Some("COMMIT"));
    trace.push(Event::Exited {
        order: 0,
        outcome: Outcome::Sold(1),
        status: "exit 0".into(),
    });
    let order = OrderRecord {
        outcome: Outcome::Sold(1),
        statements: vec![
            "BEGIN".into(),
            SELECT.into(),
            UPDATE.into(),
            "COMMIT".into(),
        ],
        unscheduled: 0,
        stalls: 0,
        exit: Some("exit 0".into()),
    };
    AppExecution {
        seed: Some(0),
        schedule: vec![1, 0, 1, 0, 1, 0],
        steps: trace.steps(),
        trace: trace.lines(),
        events: trace,
        orders: vec![order.clone(), order],
        violation: Some(CheckViolation {
            check: "no-oversell".into(),
            detail: "1 row(s): (2) (sold 2 unit(s) in 2 order(s))".into(),
        }),
        stalls: 0,
        timing: Timing::default(),
    }
}

const COMMAND: &str = "sh order.sh read-then-write.sql";

fn app_svg(execution: &AppExecution) -> String {
    let caption = super::app_caption(
        "stockrace app replay: read-then-write.toml",
        execution,
        format!("app: read-then-write.toml | 2 orders of `{COMMAND}`"),
        Some("app regression file: seeds/app/app-read-then-write.toml".into()),
    );
    svg_file(&Story::of_app(execution, COMMAND), &caption)
}

#[test]
fn the_story_of_an_app_run_has_its_orders_its_wait_and_the_failed_check() {
    let execution = read_then_write();
    let story = Story::of_app(&execution, COMMAND);
    let names: Vec<&str> = story.lanes.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["T1", "T2"]);
    assert_eq!(
        story.lanes[0].detail,
        "sh order.sh read-then-write.sql · STOCKRACE_ORDER=0 · T1.c1"
    );
    // One row per line the text prints, in its order.
    assert_eq!(
        story.steps.len(),
        execution.trace.len(),
        "{:#?}",
        execution.trace
    );
    let rows: Vec<(usize, &str, &str, &str)> = story
        .steps
        .iter()
        .map(|s| {
            (
                s.step,
                story.lanes[s.lane].name.as_str(),
                s.text.as_str(),
                s.result.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows[5..],
        [
            (6, "T1", UPDATE, "waits for T2.c1"),
            (7, "T2", "COMMIT", "COMMIT"),
            (7, "T1", &format!("(resumed) {UPDATE}")[..], "UPDATE 1"),
            (7, "T2", "exited (exit 0): sold 1", ""),
            (8, "T1", "COMMIT", "COMMIT"),
            (8, "T1", "exited (exit 0): sold 1", ""),
        ]
    );
    let kinds: Vec<Kind> = story.steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds[5..],
        [
            Kind::Waiting,
            Kind::Commit,
            Kind::Statement,
            Kind::Sold,
            Kind::Commit,
            Kind::Sold
        ]
    );
    // T1 waits from its UPDATE until the server answered it.
    assert_eq!(
        story.waits,
        [Wait {
            lane: 0,
            from: 5,
            to: Some(7),
            on: "T2.c1".into()
        }]
    );
    // The checks ran when the run ended: the last row is marked.
    let mark = story.violation.as_ref().expect("a violation");
    assert_eq!(mark.at, story.steps.len() - 1);
    assert_eq!(
        mark.sentence,
        "no-oversell violated when the run ended (the checks ran after step 8): 1 row(s): (2) (sold 2 unit(s) in 2 order(s))"
    );
    assert!(story.verdict.starts_with("verdict: VIOLATED no-oversell"));
    assert_eq!(
        story.finals,
        [
            "T1: sold 1 (4 statement(s) scheduled, 0 before ready)",
            "T2: sold 1 (4 statement(s) scheduled, 0 before ready)"
        ]
    );
    assert!(story
        .steps
        .iter()
        .all(|s| s.value.is_none() && s.time_ms == 0));
    assert!(!story.timed);

    // Laid out: rows that go on a step's release carry no number of their
    // own; no value column; the band holds the last row.
    let layout = Layout::new(&story, &["t".to_string()]);
    let numbers: Vec<Option<usize>> = layout.rows.iter().map(|r| r.number).collect();
    assert_eq!(
        numbers,
        [1, 2, 3, 4, 5, 6, 7, 0, 0, 8, 0].map(|n| (n > 0).then_some(n))
    );
    assert!(!layout.values);
    let bar = &layout.bars[0];
    assert_eq!((bar.lane, bar.open), (0, false));
    assert_eq!(bar.y1, layout.rows[5].y + layout.rows[5].height);
    assert_eq!(bar.y2, layout.rows[7].y);
    let band = layout.band.as_ref().expect("highlighted");
    let last = layout.rows.last().unwrap();
    assert!(band.y <= last.y && band.y + band.height >= last.y + last.height);
}

#[test]
fn an_app_story_shows_errors_rollbacks_connections_stalls_and_a_hung_run() {
    let mut trace = Trace::default();
    // T1 uses two connections; T2's UPDATE fails with a serialization
    // failure and it rolls back; T1.c2 is answered in no step before it is
    // seen waiting, and is still waiting when the run is cut off.
    trace.push(Event::Released {
        conn: (0, 0),
        text: "BEGIN ISOLATION LEVEL REPEATABLE READ".into(),
    });
    trace.push(Event::Answered {
        conn: (0, 0),
        result: "BEGIN".into(),
    });
    trace.push(Event::Released {
        conn: (1, 0),
        text: "UPDATE inventory_level SET stocked_quantity = stocked_quantity - 1".into(),
    });
    trace.push(Event::Answered {
        conn: (1, 0),
        result: "ERROR 40001: could not serialize access due to concurrent update".into(),
    });
    trace.push(Event::Released {
        conn: (1, 0),
        text: "ROLLBACK".into(),
    });
    trace.push(Event::Answered {
        conn: (1, 0),
        result: "ROLLBACK".into(),
    });
    trace.push(Event::Stalled {
        order: 1,
        settle_ms: 2000,
    });
    trace.push(Event::Released {
        conn: (0, 1),
        text: "SELECT pg_advisory_xact_lock(7)".into(),
    });
    trace.push(Event::Released {
        conn: (0, 0),
        text: "BEGIN; UPDATE t SET x = 1; COMMIT".into(),
    });
    trace.push(Event::Answered {
        conn: (0, 0),
        result: "BEGIN, UPDATE 1, COMMIT".into(),
    });
    trace.push(Event::Waits {
        conn: (0, 1),
        on: vec!["pid 42".into()],
    });
    let finals = vec!["T1: unfinished".to_string(), "T2: out of stock".to_string()];
    let story = Story::of_app_trace(
        &trace,
        &finals,
        Some((
            "termination",
            "T1 still running after run_timeout_ms (1000 ms)",
        )),
        "python3 order.py",
    );
    assert_eq!(
        story.lanes[0].detail,
        "python3 order.py · STOCKRACE_ORDER=0 · T1.c1, T1.c2"
    );
    assert_eq!(
        story.lanes[1].detail,
        "python3 order.py · STOCKRACE_ORDER=1 · T2.c1"
    );
    let rows: Vec<(Kind, &str, &str)> = story
        .steps
        .iter()
        .map(|s| (s.kind, s.text.as_str(), s.result.as_str()))
        .collect();
    assert_eq!(rows.len(), trace.lines().len());
    assert_eq!(
        rows[0],
        (
            Kind::Statement,
            "[c1] BEGIN ISOLATION LEVEL REPEATABLE READ",
            "BEGIN"
        )
    );
    assert_eq!(
        rows[1],
        (
            Kind::Error,
            "UPDATE inventory_level SET stocked_quantity = stocked_quantity - 1",
            "ERROR 40001: could not serialize access due to concurrent update"
        )
    );
    assert_eq!(rows[2], (Kind::Rollback, "ROLLBACK", "ROLLBACK"));
    assert_eq!(rows[3].0, Kind::Lock);
    assert!(rows[3]
        .1
        .starts_with("stalled: no statement and no exit for 2000 ms"));
    assert_eq!(
        rows[4],
        (
            Kind::Statement,
            "[c2] SELECT pg_advisory_xact_lock(7)",
            "(no answer yet)"
        )
    );
    // A batch ending in COMMIT is a commit.
    assert_eq!(
        rows[5],
        (
            Kind::Commit,
            "[c1] BEGIN; UPDATE t SET x = 1; COMMIT",
            "BEGIN, UPDATE 1, COMMIT"
        )
    );
    assert_eq!(
        rows[6],
        (
            Kind::Waiting,
            "[c2] (still running) SELECT pg_advisory_xact_lock(7)",
            "waits for pid 42"
        )
    );
    assert_eq!(
        story.waits,
        [Wait {
            lane: 0,
            from: 6,
            to: None,
            on: "pid 42".into()
        }]
    );
    assert_eq!(story.steps[6].step, 5, "the wait was seen after step 5");
    let mark = story.violation.as_ref().unwrap();
    assert_eq!(mark.at, 6);
    assert_eq!(
        mark.sentence,
        "termination violated: the run was cut off after step 5: T1 still running after run_timeout_ms (1000 ms)"
    );
    let layout = Layout::new(&story, &["t".to_string()]);
    assert!(layout.bars[0].open);
    assert_eq!(layout.bars[0].y2, layout.body_bottom);

    // A run that held: no mark, and the verdict says so.
    let held = Story::of_app_trace(&trace, &finals, None, "python3 order.py");
    assert_eq!(held.violation, None);
    assert_eq!(held.verdict, "verdict: every check held");
}

#[test]
fn the_app_svg_draws_the_orders_the_wait_and_highlights_the_failed_check() {
    let svg = app_svg(&read_then_write());
    for text in [
        ">stockrace app replay: read-then-write.toml<",
        ">T1<",
        ">T2<",
        "STOCKRACE_ORDER=0 · T1.c1",
        "→ waits for T2.c1",
        "class=\"sr-wait\"",
        "class=\"sr-commit\"",
        "class=\"sr-band\"",
        "no-oversell violated when the run ended",
        "seed 0 | schedule [1, 0, 1, 0, 1, 0]",
        "T2: sold 1 (4 statement(s) scheduled, 0 before ready)",
    ] {
        assert!(svg.contains(text), "{text} missing from {svg}");
    }
    // No row values: no value column.
    assert!(!svg.contains("after the step"), "{svg}");
    // Statement text is escaped.
    let mut execution = read_then_write();
    execution.events.push(Event::Released {
        conn: (0, 0),
        text: "SELECT '<b>' & \"x\"".into(),
    });
    let svg = app_svg(&execution);
    assert!(
        svg.contains("SELECT '&lt;b&gt;' &amp; &quot;x&quot;"),
        "{svg}"
    );
    assert!(!svg.contains("<b>"), "{svg}");
}

#[test]
fn a_small_app_timeline_is_stable() {
    let svg = app_svg(&read_then_write());
    assert_eq!(svg, app_svg(&read_then_write()));
    insta::assert_snapshot!("app_read_then_write_seed_0", svg);
}
