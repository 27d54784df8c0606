//! Draws a [`Layout`] as one SVG element: maud writes the markup, and
//! escapes every piece of text put in it. Each element is written with an
//! explicit end tag, so the result is well-formed XML (a file of its own)
//! and HTML (inline in a report) alike.

use super::layout::{Layout, FONT_PX, LINE, MARGIN, PAD};
use super::story::{Kind, Story};
use maud::{html, Markup, PreEscaped};

/// The highlighted (violating) row's fill. tests/picture_browser.rs looks
/// for it in screenshots.
macro_rules! highlight {
    () => {
        "#ffdddd"
    };
}
#[cfg(test)]
pub const HIGHLIGHT: &str = highlight!();

/// Classes shared by every timeline (several can sit in one page).
const STYLE: &str = concat!(
    "
.sr-bg{fill:#fff}
.sr-title{font-size:16px;font-weight:bold;fill:#111}
.sr-cap{fill:#333}
.sr-lane{font-weight:bold;fill:#111}
.sr-dim{fill:#666}
.sr-guide{stroke:#e3e3e3;stroke-width:1}
.sr-box{fill:#f3f6fb;stroke:#8fa3c8}
.sr-commit{fill:#e2f3df;stroke:#2f9e2f;stroke-width:2}
.sr-rollback{fill:#ececec;stroke:#777;stroke-width:2}
.sr-error{fill:#fde8d8;stroke:#d95f02;stroke-width:2}
.sr-waiting{fill:#fff4cc;stroke:#c79400}
.sr-lock{fill:#efe7f7;stroke:#9467bd}
.sr-sold{fill:#2f9e2f;stroke:none}
.sr-ended{fill:#777;stroke:none}
.sr-pill{fill:#fff;font-weight:bold}
.sr-bad{fill:#b3400a;font-weight:bold}
.sr-wait{fill:#f0b400;stroke:none}
.sr-waitlabel{fill:#8a6500;font-style:italic}
.sr-uncommitted{fill:#b3400a;font-style:italic}
.sr-band{fill:",
    highlight!(),
    ";stroke:#d62728;stroke-width:2}
.sr-sentence{fill:#a50f15;font-weight:bold}
.sr-gap{fill:#444;font-style:italic}
.sr-gapband{fill:#ececec;stroke:#bbb;stroke-dasharray:4 3}
"
);

fn class(kind: Kind) -> &'static str {
    match kind {
        Kind::Statement => "sr-box",
        Kind::Commit => "sr-commit",
        Kind::Rollback => "sr-rollback",
        Kind::Error => "sr-error",
        Kind::Waiting => "sr-waiting",
        Kind::Lock => "sr-lock",
        Kind::Sold => "sr-sold",
        Kind::Ended => "sr-ended",
    }
}

/// Baseline of a box's `n`th line (from 0) in a row at `y`.
fn baseline(y: u32, n: usize) -> u32 {
    y + PAD + (n as u32 + 1) * LINE - 3
}

/// The picture of `story` laid out as `layout`.
pub fn draw(story: &Story, layout: &Layout) -> Markup {
    let l = layout;
    let guide_x = |lane: usize| l.lane_x[lane] + l.lane_width / 2;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(l.width) height=(l.height)
            viewBox=(format!("0 0 {} {}", l.width, l.height))
            font-family="'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size=(FONT_PX) {
            style { (PreEscaped(STYLE)) }
            rect class="sr-bg" x="0" y="0" width=(l.width) height=(l.height) {}
            @for (n, (y, text)) in l.caption.iter().enumerate() {
                text x=(MARGIN) y=(y) class=(if n == 0 { "sr-title" } else { "sr-cap" }) { (text) }
            }
            text x=(MARGIN) y=(l.header_y + LINE) class="sr-dim" { "step" }
            @if l.timed {
                text x=(MARGIN) y=(l.header_y + 2 * LINE) class="sr-dim" { "time" }
            }
            @for (lane, x) in l.lane_x.iter().enumerate() {
                text x=(x) y=(l.header_y + LINE) class="sr-lane" { (story.lanes[lane].name) }
                @for (n, line) in l.lane_detail[lane].iter().enumerate() {
                    text x=(x) y=(l.header_y + (n as u32 + 2) * LINE) class="sr-dim" { (line) }
                }
                line class="sr-guide" x1=(guide_x(lane)) x2=(guide_x(lane))
                    y1=(l.body_top) y2=(l.body_bottom) {}
            }
            @if l.values {
                text x=(l.value_x) y=(l.header_y + LINE) class="sr-lane" { "row" }
                text x=(l.value_x) y=(l.header_y + 2 * LINE) class="sr-dim" { "after the step" }
            }
            @if let Some(band) = &l.band {
                rect class="sr-band" x=(MARGIN / 2) y=(band.y) width=(l.width - MARGIN)
                    height=(band.height) rx="4" {}
                @for (y, text) in &band.sentence {
                    text x=(MARGIN + 8) y=(y) class="sr-sentence" { (text) }
                }
            }
            @for bar in &l.bars {
                rect class="sr-wait" x=(guide_x(bar.lane) - 3) y=(bar.y1) width="6"
                    height=(bar.y2 - bar.y1) opacity=(if bar.open { "0.5" } else { "1" }) {
                    title { "waits for " (bar.on) @if bar.open { " until the run ended" } }
                }
                @let top = (bar.y1 + bar.y2) / 2 - bar.label.len() as u32 * LINE / 2;
                @for (n, line) in bar.label.iter().enumerate() {
                    text x=(guide_x(bar.lane) + 8) y=(top + (n as u32 + 1) * LINE - 3) class="sr-waitlabel" {
                        (line)
                    }
                }
            }
            @for gap in &l.gaps {
                rect class="sr-gapband" x=(MARGIN / 2) y=(gap.y - LINE + 1) width=(l.width - MARGIN)
                    height=(LINE + 2) {}
                text x=(MARGIN) y=(gap.y) class="sr-gap" { (gap.text) }
            }
            @for row in &l.rows {
                @let step = &story.steps[row.index];
                @let x = l.lane_x[step.lane];
                @if let Some(number) = row.number {
                    text x=(MARGIN) y=(baseline(row.y, 0)) class="sr-dim" { (number) }
                }
                @if l.timed {
                    text x=(MARGIN) y=(baseline(row.y, 1)) class="sr-dim" { (step.time_ms) " ms" }
                }
                @let pill = matches!(step.kind, Kind::Sold | Kind::Ended);
                g {
                    title {
                        (step.lane_name(story))
                        @if step.step > 0 { " step " (step.step) }
                        ": " (step.text)
                        @if !step.result.is_empty() { " → " (step.result) }
                    }
                    rect class=(class(step.kind)) x=(x) y=(row.y) width=(l.lane_width)
                        height=(row.height) rx=(if pill { "11" } else { "3" }) {}
                    @for (n, line) in row.lines.iter().enumerate() {
                        @let result = n + 1 == row.lines.len() && !step.result.is_empty();
                        text x=(x + PAD) y=(baseline(row.y, n))
                            class=[if pill { Some("sr-pill") } else if result && matches!(step.kind, Kind::Error | Kind::Waiting) { Some("sr-bad") } else { None }] {
                            (line)
                        }
                    }
                }
                @for (n, line) in row.value.iter().enumerate() {
                    text x=(l.value_x) y=(baseline(row.y, n))
                        class=[(n > 0).then_some("sr-uncommitted")] { (line) }
                }
            }
            @for (y, text) in &l.footer {
                text x=(MARGIN) y=(y) class="sr-cap" { (text) }
            }
        }
    }
}

impl super::story::Step {
    fn lane_name<'a>(&self, story: &'a Story) -> &'a str {
        &story.lanes[self.lane].name
    }
}
