//! The pictures without a browser: what the story reads from a trace,
//! where the layout puts it, what long runs leave out, escaping, and the
//! same bytes for the same run.

use super::layout::{self, kept, wrap, Layout, AROUND, HEAD, MAX_LANES, TAIL};
use super::story::{Kind, Lane, Mark, Step, Story, Wait};
use super::svg::HIGHLIGHT;
use super::{caption, timeline_svg};
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
    timeline_svg(&execution, &scenario, &caption)
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
