//! Pictures of runs: a run's timeline as SVG (one lane per order, one row
//! per step, waits as bars, the violating step highlighted with the
//! invariant's sentence), and self-contained HTML reports around such
//! timelines (replay, sweep, compare).
//!
//! - [`story`]: what the picture says, read from the run's trace.
//! - [`layout`]: where everything goes, and what long runs leave out;
//!   testable without a browser.
//! - `svg`: draws a layout.
//! - [`page`]: the HTML pages (inline CSS, SVG and script; nothing fetched).
//!
//! The output depends on its input alone, so the same run gives the same
//! bytes.

pub mod layout;
pub mod page;
pub mod story;
mod svg;

#[cfg(test)]
mod tests;

use layout::Layout;
use maud::Markup;
use stockrace::{Execution, Scenario};
use story::Story;

/// The timeline of `execution` under `caption` (a title, then lines about
/// the run), as markup to put in a page.
pub fn timeline(execution: &Execution, scenario: &Scenario, caption: &[String]) -> Markup {
    let story = Story::new(execution, scenario);
    let layout = Layout::new(&story, caption);
    svg::draw(&story, &layout)
}

/// [`timeline`] as an SVG file of its own, one element per line so that
/// two files diff readably. (Text is escaped, so `><` occurs only between
/// tags, and no element of the picture holds text and elements together.)
pub fn timeline_svg(execution: &Execution, scenario: &Scenario, caption: &[String]) -> String {
    let markup = timeline(execution, scenario, caption).into_string();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
        markup.replace("><", ">\n<")
    )
}

/// A caption for a run: `title`, the scenario in one line, the seed and
/// the schedule, and where the run came from (a scenario or regression
/// file), when it did.
pub fn caption(
    title: &str,
    execution: &Execution,
    scenario: &Scenario,
    source: Option<String>,
) -> Vec<String> {
    let mut lines = vec![title.to_string()];
    lines.push(super::sweep::describe(scenario));
    lines.extend(source);
    let seed = execution
        .seed
        .map_or(String::new(), |s| format!("seed {s} | "));
    lines.push(format!("{seed}schedule {:?}", execution.schedule));
    lines
}
