//! `--svg` and `--html` on replay, sweep and compare: written like every
//! other output file, the same bytes for the same run, text escaped, bad
//! outputs refused before any work (exit 2, naming the file and why).
//! (The layout itself is tested in src/commands/picture/tests.rs; the
//! pictures in a real browser in tests/picture_browser.rs.)

mod command;
use command::{stderr, stdout, stockrace, stockrace_in};

use std::fs;

const REPLAY: [&str; 5] = ["replay", "--strategy", "plain-update", "--seed", "0"];

fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| s.to_string()).collect()
}

fn run(args: &[String]) -> std::process::Output {
    stockrace(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn replay_writes_a_timeline_and_a_page_and_still_prints_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("run.svg");
    let html = dir.path().join("run.html");
    let output = run(&with(
        &REPLAY,
        &[
            "--svg",
            svg.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    ));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("verdict: VIOLATED no-oversell"), "{text}");
    assert!(
        text.contains(&format!("timeline: {}", svg.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("page: {}", html.display())),
        "{text}"
    );
    let picture = fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<?xml") && picture.contains("<svg"));
    assert!(
        picture.contains("class=\"sr-band\""),
        "the violating step is highlighted"
    );
    assert!(picture.contains("no-oversell violated at step 11"));
    let page = fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<svg"), "the timeline is inline");
    assert!(page.contains("stockrace replay --strategy plain-update --orders 2"));
    assert!(page.contains("the run as text"));
    for outside in ["src=", "href=", "@import", "url("] {
        assert!(
            !page.contains(outside),
            "the page fetches something: {outside}"
        );
    }
}

#[test]
fn the_same_run_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..2)
        .map(|i| {
            let svg = dir.path().join(format!("{i}.svg"));
            let html = dir.path().join(format!("{i}.html"));
            let args = [
                "replay",
                "--strategy",
                "row-lock",
                "--orders",
                "4",
                "--seed",
                "3",
            ];
            let output = run(&with(
                &args,
                &[
                    "--svg",
                    svg.to_str().unwrap(),
                    "--html",
                    html.to_str().unwrap(),
                ],
            ));
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            (fs::read(svg).unwrap(), fs::read(html).unwrap())
        })
        .collect();
    assert_eq!(files[0], files[1]);

    // compare's and sweep's pages too, whatever the number of threads.
    let pages: Vec<Vec<u8>> = ["1", "2"]
        .iter()
        .map(|jobs| {
            let out = dir.path().join(format!("compare-{jobs}.html"));
            let output = stockrace(&[
                "compare",
                "--strategies",
                "plain-update,guarded-decrement",
                "--orders",
                "2,3",
                "--seeds",
                "30",
                "--jobs",
                jobs,
                "--html",
                out.to_str().unwrap(),
            ]);
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            fs::read(out).unwrap()
        })
        .collect();
    assert_eq!(pages[0], pages[1]);
    let pages: Vec<Vec<u8>> = ["1", "2"]
        .iter()
        .map(|jobs| {
            let out = dir.path().join(format!("sweep-{jobs}.html"));
            let output = stockrace(&[
                "sweep",
                "--strategy",
                "plain-update",
                "--orders",
                "3",
                "--seeds",
                "30",
                "--jobs",
                jobs,
                "--html",
                out.to_str().unwrap(),
            ]);
            assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
            fs::read(out).unwrap()
        })
        .collect();
    assert_eq!(pages[0], pages[1]);
}

#[test]
fn a_picture_on_stdout_sends_the_text_to_stderr() {
    let output = run(&with(&REPLAY, &["--svg", "-"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).starts_with("<?xml"), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("verdict: VIOLATED"),
        "{}",
        stderr(&output)
    );

    // With --json on stdout, a picture goes to its file.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("j.svg");
    let output = run(&with(&REPLAY, &["--json", "--svg", svg.to_str().unwrap()]));
    assert!(stdout(&output).starts_with('{'), "{}", stdout(&output));
    assert!(fs::read_to_string(&svg).unwrap().contains("<svg"));

    let output = run(&with(&REPLAY, &["--html", "-"]));
    assert!(stdout(&output).starts_with("<!DOCTYPE html>"));
}

#[test]
fn bad_outputs_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut cases: Vec<(Vec<String>, String)> = vec![
        (
            with(&REPLAY, &["--svg", d]),
            format!("--svg {d}: is a directory"),
        ),
        (
            with(&REPLAY, &["--html", &format!("{d}/no/such/dir/x.html")]),
            format!("--html {d}/no/such/dir/x.html: no directory {d}/no/such/dir to write it in"),
        ),
        (
            with(&REPLAY, &["--svg", "-", "--html", "-"]),
            "both on stdout".into(),
        ),
        (
            with(&REPLAY, &["--json", "--svg", "-"]),
            "both on stdout".into(),
        ),
        (
            with(
                &["sweep", "--strategy", "plain-update", "--seeds", "5"],
                &["--html", d],
            ),
            format!("--html {d}: is a directory"),
        ),
        (
            with(
                &["compare", "--orders", "2", "--seeds", "5"],
                &["--html", "-", "--svg", "-"],
            ),
            "both on stdout".into(),
        ),
        (
            with(
                &["replay", &format!("{d}/missing.toml")],
                &["--svg", &format!("{d}/x.svg")],
            ),
            format!("{d}/missing.toml"),
        ),
    ];
    let kept = dir.path().join("kept.toml");
    fs::write(&kept, "not even toml").unwrap();
    let k = kept.to_str().unwrap();
    cases.push((
        with(&["replay", k], &["--svg", k]),
        format!("--svg {k}: is the file this command reads"),
    ));
    for (args, message) in cases {
        let output = run(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(&message),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
    assert!(
        !dir.path().join("x.svg").exists(),
        "bad input writes nothing"
    );
    assert_eq!(fs::read_to_string(&kept).unwrap(), "not even toml");
}

#[test]
fn names_are_escaped_in_pictures_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let name = "we<&\"'>ird.toml";
    fs::write(
        dir.path().join(name),
        "[[levels]]\nitem = \"box\"\nlocation = \"shelf\"\nstocked = 1\n\n[[orders]]\nstrategy = \"plain-update\"\ncount = 2\nlines = [{ level = 1, quantity = 1 }]\n",
    )
    .unwrap();
    let output = stockrace_in(
        dir.path(),
        &[
            "replay",
            "--scenario",
            name,
            "--seed",
            "0",
            "--svg",
            "t.svg",
            "--html",
            "t.html",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let escaped = "we&lt;&amp;&quot;'&gt;ird.toml";
    for file in ["t.svg", "t.html"] {
        let text = fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(
            text.contains(&format!("scenario file: {escaped}")),
            "{file}: {text}"
        );
        assert!(!text.contains("we<&"), "{file} holds the name unescaped");
    }
    // The page's replay command names the file, quoted for a shell.
    let page = fs::read_to_string(dir.path().join("t.html")).unwrap();
    let command =
        "stockrace replay --scenario &quot;we&lt;&amp;\\&quot;'&gt;ird.toml&quot; --seed 0";
    assert!(page.contains(command), "{page}");

    let output = stockrace_in(
        dir.path(),
        &[
            "compare",
            "--scenario",
            name,
            "--strategies",
            "as-written",
            "--seeds",
            "10",
            "--html",
            "c.html",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let page = fs::read_to_string(dir.path().join("c.html")).unwrap();
    assert!(
        page.contains(&format!("scenario file: {escaped}")),
        "{page}"
    );
    assert!(!page.contains("we<&"));
}

#[test]
fn compare_html_has_the_chart_the_table_the_verdicts_and_each_unsafe_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("compare.html");
    let output = stockrace(&[
        "compare",
        "--strategies",
        "plain-update,guarded-decrement",
        "--orders",
        "2,4",
        "--seeds",
        "40",
        "--html",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains(&format!("report: {}", out.display())));
    let page = fs::read_to_string(&out).unwrap();
    assert!(page.contains("<table class=\"sr-table\">"));
    assert_eq!(
        page.matches("<tr>").count(),
        1 + 4,
        "a header and a row per cell"
    );
    assert!(
        page.contains("<dt>safe at every level</dt><dd>guarded-decrement</dd>"),
        "{page}"
    );
    assert!(
        page.contains("<dt>UNSAFE</dt><dd>plain-update</dd>"),
        "{page}"
    );
    assert!(page.contains("<h2>plain-update: UNSAFE</h2>"));
    assert!(!page.contains("<h2>guarded-decrement"));
    assert!(page.contains("plain-update: its minimal failing run"));
    assert!(page.contains("stockrace replay --strategy plain-update --orders 2"));
    // The chart, and one timeline: three SVG elements would be one too many.
    assert_eq!(
        page.matches("<svg").count(),
        2,
        "the chart and one timeline"
    );
    assert!(page.contains("class=\"sr-band\""));
}

#[test]
fn sweep_html_shows_the_figures_and_the_shrunk_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep.html");
    let output = stockrace(&[
        "sweep",
        "--strategy",
        "plain-update",
        "--orders",
        "4",
        "--seeds",
        "30",
        "--html",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("first failure: seed"));
    let page = fs::read_to_string(&out).unwrap();
    assert!(page.contains("<title>stockrace sweep: plain-update</title>"));
    assert!(page.contains("first failure, shrunk"));
    assert!(page.contains("shrunk: from 4 order(s) involved"), "{page}");
    assert!(page.contains("plain-update: the minimal failing run"));
    assert!(page.contains("class=\"sr-band\""));

    // `--html -`: the page on stdout, the text on stderr.
    let output = stockrace(&[
        "sweep",
        "--strategy",
        "guarded-decrement",
        "--seeds",
        "10",
        "--html",
        "-",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let page = stdout(&output);
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("every invariant held"));
    assert!(!page.contains("<h2>"), "no failure to show");
    assert!(
        stderr(&output).contains("every invariant held"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn check_and_shrink_draw_their_minimal_counterexample() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("check.svg");
    let output = stockrace(&[
        "check",
        "--strategy",
        "plain-update",
        "--orders",
        "2",
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains(&format!("timeline: {}", svg.display())));
    let picture = fs::read_to_string(&svg).unwrap();
    assert!(picture.contains("stockrace check: plain-update"));
    assert!(picture.contains("class=\"sr-band\""));

    // A proof has no counterexample: no file, and a word on stderr.
    let none = dir.path().join("none.svg");
    let output = stockrace(&[
        "check",
        "--strategy",
        "guarded-decrement",
        "--orders",
        "2",
        "--svg",
        none.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no failing run to draw"),
        "{}",
        stderr(&output)
    );
    assert!(!none.exists());

    let seeds = dir.path().join("seeds");
    let output = stockrace(&[
        "shrink",
        "--strategy",
        "plain-update",
        "--orders",
        "4",
        "--seed",
        "0",
        "--seeds-dir",
        seeds.to_str().unwrap(),
        "--html",
        "-",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains("stockrace shrink: plain-update"));
    assert!(
        stderr(&output).contains("minimal:"),
        "the text went to stderr: {}",
        stderr(&output)
    );
}
