//! Pictures of runs: a run's timeline as SVG (one lane per order, one row
//! per step, waits as bars, the violating step highlighted with the
//! invariant's sentence), and self-contained HTML reports around such
//! timelines (replay, sweep, compare).
//!
//! - [`story`]: what the picture says, read from the run's trace;
//!   `app_story`: the same from an app run's trace (`stockrace app`).
//! - [`layout`]: where everything goes, and what long runs leave out;
//!   testable without a browser.
//! - `svg`: draws a layout.
//! - [`page`]: the HTML pages (inline CSS, SVG and script; nothing fetched).
//!
//! The output depends on its input alone, so the same run gives the same
//! bytes.

mod app_story;
pub mod layout;
pub mod page;
pub mod story;
mod svg;

#[cfg(test)]
mod tests;

use layout::Layout;
use maud::Markup;
use stockrace::adapters::app::AppExecution;
use stockrace::{Execution, Scenario};
use story::Story;

/// The timeline of `execution` under `caption` (a title, then lines about
/// the run), as markup to put in a page.
pub fn timeline(execution: &Execution, scenario: &Scenario, caption: &[String]) -> Markup {
    draw(&Story::new(execution, scenario), caption)
}

/// The timeline of any run's story, simulated or app, under `caption`.
pub fn draw(story: &Story, caption: &[String]) -> Markup {
    svg::draw(story, &Layout::new(story, caption))
}

/// [`draw`] as an SVG file of its own, one element per line so that two
/// files diff readably. (Text is escaped, so `><` occurs only between
/// tags, and no element of the picture holds text and elements together.)
pub fn svg_file(story: &Story, caption: &[String]) -> String {
    let markup = draw(story, caption).into_string();
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

/// A caption for an app run: `title`, the app file and its orders'
/// command (`app`), where the run came from (a kept app regression file),
/// and the seed and the schedule. Nothing about the server: the picture
/// depends on the run alone.
pub fn app_caption(
    title: &str,
    execution: &AppExecution,
    app: String,
    source: Option<String>,
) -> Vec<String> {
    let mut lines = vec![title.to_string(), app];
    lines.extend(source);
    let seed = execution
        .seed
        .map_or(String::new(), |s| format!("seed {s} | "));
    lines.push(format!("{seed}schedule {:?}", execution.schedule));
    lines
}
