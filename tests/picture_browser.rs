//! The pictures in a real browser: Debian's chromium, headless, renders
//! replay's timeline SVG and page, sweep's and compare's pages to PNG; the
//! test checks each loads without a console message or XML error, that the
//! page's script ran, that the picture is not blank, and that the
//! violating step's highlight colour is there exactly when a step broke an
//! invariant.
//!
//! Without chromium (`.ci/run` installs it) the tests say they were
//! skipped and why; under `CI=true` a missing chromium is a failure.

mod command;
use command::{stderr, stockrace};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The violating row's fill (src/commands/picture/svg.rs, HIGHLIGHT).
const HIGHLIGHT: [u8; 3] = [0xff, 0xdd, 0xdd];

/// chromium, or `None` after saying why the test is skipped.
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    match found {
        Some(path) => Some(path),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true and no chromium on PATH to test the pictures in (.ci/run installs Debian's chromium)")
        }
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: the browser tests in this file did not run: no chromium on PATH (apt-get install chromium)"
            );
            None
        }
    }
}

/// What chromium made of a file: its screenshot's pixels (RGB), the DOM
/// after scripts ran, and the console messages it logged.
struct Rendered {
    width: usize,
    pixels: Vec<[u8; 3]>,
    dom: String,
    console: Vec<String>,
}

fn chromium_run(browser: &Path, dir: &Path, args: &[String]) -> (String, String) {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let start = Instant::now();
    // Read both pipes on threads so that a chatty chromium cannot block.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium {args:?} took more than 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (out.join().unwrap(), err.join().unwrap())
}

fn render(browser: &Path, file: &Path, width: u32, height: u32) -> Rendered {
    let dir = file.parent().unwrap();
    let png = file.with_extension("png");
    let url = format!("file://{}", file.display());
    let (_, log) = chromium_run(
        browser,
        dir,
        &[
            format!("--window-size={width},{height}"),
            format!("--screenshot={}", png.display()),
            url.clone(),
        ],
    );
    let (dom, log2) = chromium_run(browser, dir, &["--dump-dom".into(), url]);
    let console = log
        .lines()
        .chain(log2.lines())
        .filter(|l| l.contains(":CONSOLE"))
        .map(String::from)
        .collect();
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png)
            .unwrap_or_else(|e| panic!("no screenshot {}: {e}\n{log}", png.display())),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "an RGB screenshot: {:?}", info.color_type);
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Rendered {
        width: info.width as usize,
        pixels,
        dom,
        console,
    }
}

impl Rendered {
    fn count(&self, colour: [u8; 3]) -> usize {
        self.pixels.iter().filter(|p| **p == colour).count()
    }

    /// Not a blank page: a good share of non-white pixels, in many colours.
    fn assert_drawn(&self, what: &str) {
        let inked = self
            .pixels
            .iter()
            .filter(|p| **p != [255, 255, 255])
            .count();
        let colours: std::collections::BTreeSet<[u8; 3]> = self.pixels.iter().copied().collect();
        assert!(
            inked * 50 > self.pixels.len() && colours.len() > 20,
            "{what} looks blank: {inked} of {} pixels inked, {} colours (width {})",
            self.pixels.len(),
            colours.len(),
            self.width
        );
        assert!(
            self.console.is_empty(),
            "{what}: console messages: {:#?}",
            self.console
        );
        assert!(
            !self.dom.contains("parsererror")
                && !self.dom.contains("This page contains the following errors"),
            "{what} did not parse: {}",
            self.dom
        );
    }
}

/// Runs `stockrace` with `args` (split at spaces) and checks its exit status.
fn make(args: &str, code: i32) {
    let args: Vec<&str> = args.split(' ').collect();
    let output = stockrace(&args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}: {}",
        stderr(&output)
    );
}

#[test]
fn timelines_and_reports_render_in_chromium() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(!d.contains(' '), "make() splits at spaces");
    let path = |name: &str| dir.path().join(name);

    make(
        &format!("replay --strategy plain-update --seed 0 --svg {d}/bad.svg --html {d}/bad.html"),
        1,
    );
    make(
        &format!("replay --strategy guarded-decrement --orders 4 --seed 0 --svg {d}/good.svg"),
        0,
    );
    make(
        &format!("replay --strategy row-lock --orders 8 --seed 1 --svg {d}/eight.svg"),
        0,
    );
    make(
        &format!("sweep --strategy plain-update --orders 4 --seeds 20 --html {d}/sweep.html"),
        1,
    );
    make(
        &format!("compare --strategies plain-update,guarded-decrement --orders 2,3 --seeds 20 --html {d}/compare.html"),
        0,
    );

    // The violating run: its highlight is there, in the SVG and in the page.
    for file in ["bad.svg", "bad.html"] {
        let shot = render(&browser, &path(file), 1200, 900);
        shot.assert_drawn(file);
        let found = shot.count(HIGHLIGHT);
        assert!(
            found > 2000,
            "{file}: the highlighted step is missing ({found} px)"
        );
    }
    // Runs that held, at 4 and 8 orders: drawn, and nothing highlighted.
    for (file, width) in [("good.svg", 1600), ("eight.svg", 2100)] {
        let shot = render(&browser, &path(file), width, 1200);
        shot.assert_drawn(file);
        assert_eq!(
            shot.count(HIGHLIGHT),
            0,
            "{file}: a highlight in a run that held"
        );
    }
    for (file, height) in [("sweep.html", 1800), ("compare.html", 2600)] {
        let shot = render(&browser, &path(file), 1300, height);
        shot.assert_drawn(file);
        let ran = shot.dom.contains("data-ready=\"yes\"");
        assert!(ran, "{file}: the script did not run");
        let found = shot.count(HIGHLIGHT);
        assert!(
            found > 2000,
            "{file}: no highlighted step in view ({found} px)"
        );
    }
}

/// An app run's timeline (drawn from the proxy's trace, no database here:
/// the SVG is the one the layout snapshot in src/commands/picture/
/// keeps, of the kept psql failure) renders, with its failed check
/// highlighted.
#[test]
fn an_app_timeline_renders_in_chromium() {
    let Some(browser) = chromium() else { return };
    let snapshot = include_str!(
        "../src/commands/picture/snapshots/stockrace__commands__picture__tests__app_read_then_write_seed_0.snap"
    );
    // An insta snapshot: a header between two `---` lines, then the SVG.
    let svg = snapshot
        .splitn(3, "---\n")
        .nth(2)
        .expect("a snapshot header");
    assert!(svg.trim_start().starts_with("<?xml"), "{svg:.80}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.svg");
    std::fs::write(&file, svg).unwrap();
    let shot = render(&browser, &file, 1200, 900);
    shot.assert_drawn("app.svg");
    let found = shot.count(HIGHLIGHT);
    assert!(
        found > 2000,
        "app.svg: the failed check is not highlighted ({found} px)"
    );
}

/// The checks above can fail: a page with a script error, and a malformed
/// SVG, are caught.
#[test]
fn the_browser_checks_catch_a_broken_page() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><p>x</p><script>notDefined();</script>",
    )
    .unwrap();
    let shot = render(&browser, &page, 400, 300);
    assert!(
        shot.console.iter().any(|l| l.contains("notDefined")),
        "{:?}",
        shot.console
    );
    let svg = dir.path().join("broken.svg");
    std::fs::write(
        &svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>a & b</text></svg>",
    )
    .unwrap();
    let shot = render(&browser, &svg, 400, 300);
    let caught = std::panic::catch_unwind(|| shot.assert_drawn("broken.svg"));
    assert!(caught.is_err(), "a malformed SVG passed");
}
