//! Where everything of a [`Story`] goes: lanes side by side, one row per
//! step down the page (as tall as its wrapped text), waits as bars between
//! rows, the violating row with its sentence, and, for long runs or many
//! orders, what is left out and a line saying so.
//!
//! Positions are whole pixels computed from character counts (a monospace
//! font is assumed: nothing here can measure text), so the same story
//! always gives the same layout.

use super::story::Story;
use std::ops::Range;

/// Font size, and the width a monospace character is taken to have at it
/// (DejaVu Sans Mono's advance is 0.602 em; rounded up, in tenths of a px).
pub const FONT_PX: u32 = 12;
const CHAR_TENTHS: u32 = 73;
pub const LINE: u32 = 15;
/// Inside a box, between rows, around the picture, between lanes.
pub const PAD: u32 = 5;
const ROW_GAP: u32 = 6;
pub const MARGIN: u32 = 16;
const LANE_GAP: u32 = 14;
/// The step and time column on the left.
const GUTTER: u32 = 88;
/// Lines of a statement's SQL in its box (the rest is in its tooltip).
const BOX_LINES: usize = 4;
/// Longest value line before it wraps.
const VALUE_CHARS: usize = 44;

/// More steps than this are elided: the first [`HEAD`], [`AROUND`] either
/// side of the violation, and the last [`TAIL`] are drawn.
pub const MAX_ROWS: usize = 300;
pub const HEAD: usize = 150;
pub const AROUND: usize = 40;
pub const TAIL: usize = 60;
/// Orders past this many get no lane; a line says what was left out.
pub const MAX_LANES: usize = 16;

/// A step's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// Index into [`Story::steps`].
    pub index: usize,
    /// The step number drawn beside the row: none for a row that goes on
    /// the step of the row before it (an app run's answer to an earlier
    /// statement, an order ending), nor for step 0 (before the first).
    pub number: Option<usize>,
    pub y: u32,
    pub height: u32,
    /// The box's text, wrapped: the SQL or event, then `→ result`.
    pub lines: Vec<String>,
    /// The value column's text.
    pub value: Vec<String>,
}

/// Where elided steps would have been.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub y: u32,
    pub text: String,
}

/// An order blocked: a bar down its lane from the waiting box to the
/// moment it moved again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub lane: usize,
    pub y1: u32,
    pub y2: u32,
    pub on: String,
    /// Still waiting when the run ended.
    pub open: bool,
    /// The words beside the bar, wrapped to the half lane right of it;
    /// empty when the bar is too short for them.
    pub label: Vec<String>,
}

/// The violating row, and the sentence drawn under its boxes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    pub y: u32,
    pub height: u32,
    /// Baselines and text of the sentence's lines.
    pub sentence: Vec<(u32, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    /// Baselines and text of the caption's lines (the title first).
    pub caption: Vec<(u32, String)>,
    /// Top of the lane headers (the name, then the detail's lines).
    pub header_y: u32,
    /// Each drawn lane's detail (strategy, node, isolation), wrapped.
    pub lane_detail: Vec<Vec<String>>,
    pub body_top: u32,
    pub body_bottom: u32,
    /// Left edge of each drawn lane, and their width.
    pub lane_x: Vec<u32>,
    pub lane_width: u32,
    /// Some step has a row value: draw the value column (app runs have none).
    pub values: bool,
    pub value_x: u32,
    pub rows: Vec<Placed>,
    pub gaps: Vec<Gap>,
    pub bars: Vec<Bar>,
    pub band: Option<Band>,
    /// Verdict, final rows and what was left out: baselines and text.
    pub footer: Vec<(u32, String)>,
    /// Draw the time column.
    pub timed: bool,
}

/// Pixels taken by `chars` characters.
pub fn text_width(chars: usize) -> u32 {
    (chars as u32 * CHAR_TENTHS).div_ceil(10)
}

/// Characters of SQL per line in a lane: narrower lanes for more orders.
pub fn lane_chars(lanes: usize) -> usize {
    match lanes {
        0..=2 => 44,
        3..=4 => 36,
        5..=6 => 30,
        _ => 26,
    }
}

/// The column list every model SELECT reads, after its first column.
const MORE_COLUMNS: &str = ", reserved_quantity, version FROM";

/// A statement's text for a box `chars` wide: in narrow lanes a SELECT's
/// column list is cut to its first column (the tooltip has it whole).
pub fn shorten(text: &str, chars: usize) -> String {
    if chars < 40 {
        text.replacen(MORE_COLUMNS, ", … FROM", 1)
    } else {
        text.to_string()
    }
}

/// The parts of `0..n` to draw when `n` steps are too many: the first
/// [`HEAD`], [`AROUND`] either side of `mark`, the last [`TAIL`], joined
/// where they touch.
pub fn kept(n: usize, mark: Option<usize>) -> Vec<Range<usize>> {
    if n <= MAX_ROWS {
        #[allow(clippy::single_range_in_vec_init)] // one part: the whole run
        return vec![0..n];
    }
    let mut parts = vec![0..HEAD, n - TAIL..n];
    if let Some(m) = mark {
        parts.push(m.saturating_sub(AROUND)..(m + AROUND + 1).min(n));
    }
    parts.sort_by_key(|r| r.start);
    let mut joined: Vec<Range<usize>> = Vec::new();
    for part in parts {
        match joined.last_mut() {
            Some(last) if part.start <= last.end => last.end = last.end.max(part.end),
            _ => joined.push(part),
        }
    }
    joined
}

/// `text` in lines of at most `width` characters, broken at spaces where
/// it can be (a longer word is cut); at most `max` lines, the last ending
/// in `…` when text was left out.
pub fn wrap(text: &str, width: usize, max: usize) -> Vec<String> {
    let width = width.max(2);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let used = line.chars().count();
            let len = word.chars().count();
            let fits = if used == 0 {
                len <= width
            } else {
                used + 1 + len <= width
            };
            if fits {
                if used > 0 {
                    line.push(' ');
                }
                line += &word;
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a line: cut it.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    if lines.len() > max {
        lines.truncate(max);
        let last = lines.last_mut().expect("max >= 1");
        let mut cut: String = last.chars().take(width - 1).collect();
        cut.push('…');
        *last = cut;
    }
    lines
}

impl Layout {
    /// Lays `story` out under `caption` (title, then lines about the run).
    pub fn new(story: &Story, caption: &[String]) -> Layout {
        let lanes = story.lanes.len().min(MAX_LANES);
        let chars = lane_chars(lanes);
        let lane_width = text_width(chars) + 2 * PAD;
        // Steps in drawn lanes; then the parts of them that are drawn.
        let visible: Vec<usize> = (0..story.steps.len())
            .filter(|&i| story.steps[i].lane < lanes)
            .collect();
        let mark = story
            .violation
            .as_ref()
            .map(|m| visible.iter().rposition(|&i| i <= m.at).unwrap_or(0));
        let parts = kept(visible.len(), mark);

        let rows_text: Vec<(Vec<String>, Vec<String>)> = visible
            .iter()
            .map(|&i| {
                let step = &story.steps[i];
                let mut lines = wrap(&shorten(&step.text, chars), chars, BOX_LINES);
                if !step.result.is_empty() {
                    lines.extend(wrap(&format!("→ {}", step.result), chars, 2));
                }
                let value = step.value.iter().flat_map(|v| {
                    let mut out = wrap(&v.committed, VALUE_CHARS, 2);
                    if let Some(u) = &v.uncommitted {
                        out.extend(wrap(u, VALUE_CHARS, 2));
                    }
                    out
                });
                (lines, value.collect())
            })
            .collect();
        let values = story.steps.iter().any(|s| s.value.is_some());
        let value_chars = match values {
            true => rows_text
                .iter()
                .flat_map(|(_, v)| v.iter().map(|l| l.chars().count()))
                .max()
                .unwrap_or(0)
                .max("row after the step".len()),
            false => 0,
        };
        let lanes_left = MARGIN + GUTTER;
        let lane_x: Vec<u32> = (0..lanes)
            .map(|i| lanes_left + i as u32 * (lane_width + LANE_GAP))
            .collect();
        let value_x = lanes_left + lanes as u32 * (lane_width + LANE_GAP) + PAD;
        let width_chars =
            |width: u32| ((width.saturating_sub(2 * MARGIN)) * 10 / CHAR_TENTHS) as usize;
        let width = (value_x + text_width(value_chars) + MARGIN).max(640);

        let mut y = MARGIN;
        let mut caption_lines = Vec::new();
        for (n, line) in caption.iter().enumerate() {
            // The title is drawn larger: fewer characters fit.
            let fit = if n == 0 {
                width_chars(width) * 3 / 4
            } else {
                width_chars(width)
            };
            for part in wrap(line, fit, 3) {
                y += if n == 0 { LINE + 5 } else { LINE };
                caption_lines.push((y, part));
            }
        }
        let header_y = y + PAD * 2;
        let lane_detail: Vec<Vec<String>> = story.lanes[..lanes]
            .iter()
            .map(|lane| wrap(&lane.detail, chars, 2))
            .collect();
        let detail_lines = lane_detail.iter().map(Vec::len).max().unwrap_or(1);
        let body_top = header_y + (1 + detail_lines as u32) * LINE + PAD * 2;

        let mut y = body_top + ROW_GAP;
        let mut rows = Vec::new();
        let mut gaps = Vec::new();
        let mut band = None;
        // Top and bottom of each visible step: its row, or its gap.
        let mut span: Vec<Option<(u32, u32)>> = vec![None; story.steps.len()];
        let mut next = 0;
        let total = visible.len();
        for part in parts.iter().chain(std::iter::once(&(total..total))) {
            if part.start > next {
                let (a, b) = (
                    story.steps[visible[next]].step,
                    story.steps[visible[part.start - 1]].step,
                );
                let text = format!(
                    "… {} step(s) not drawn (trace steps {a} to {b}) …",
                    part.start - next
                );
                for &i in &visible[next..part.start] {
                    span[i] = Some((y, y + LINE + PAD));
                }
                gaps.push(Gap { y: y + LINE, text });
                y += LINE + PAD + ROW_GAP;
            }
            for k in part.clone() {
                let (lines, value) = &rows_text[k];
                // Two lines at least when the time sits under the step number.
                let min = if story.timed { 2 } else { 1 };
                let height = lines.len().max(value.len()).max(min) as u32 * LINE + 2 * PAD;
                let index = visible[k];
                span[index] = Some((y, y + height));
                let step = story.steps[index].step;
                let goes_on = k > 0 && story.steps[visible[k - 1]].step == step;
                rows.push(Placed {
                    index,
                    number: (step > 0 && !goes_on).then_some(step),
                    y,
                    height,
                    lines: lines.clone(),
                    value: value.clone(),
                });
                y += height;
                if mark == Some(k) {
                    let sentence = story.violation.as_ref().expect("a mark").sentence.clone();
                    let fit = width_chars(width).saturating_sub((GUTTER / 8) as usize);
                    let lines: Vec<(u32, String)> = wrap(&sentence, fit, 3)
                        .into_iter()
                        .enumerate()
                        .map(|(n, l)| (y + PAD + (n as u32 + 1) * LINE - 3, l))
                        .collect();
                    let extra = lines.len() as u32 * LINE + 2 * PAD;
                    band = Some(Band {
                        y: y - height - 3,
                        height: height + extra + 6,
                        sentence: lines,
                    });
                    y += extra;
                }
                y += ROW_GAP;
            }
            next = part.end;
        }
        let body_bottom = y;

        let bars = bars(story, lanes, &span, body_bottom);
        let notes = notes(story, lanes, visible.len(), &parts, mark.is_some());
        let mut footer = Vec::new();
        let mut y = body_bottom + PAD;
        for line in &notes {
            for part in wrap(line, width_chars(width), 4) {
                y += LINE;
                footer.push((y, part));
            }
        }
        Layout {
            width,
            height: y + MARGIN,
            caption: caption_lines,
            header_y,
            lane_detail,
            body_top,
            body_bottom,
            lane_x,
            lane_width,
            values,
            value_x,
            rows,
            gaps,
            bars,
            band,
            footer,
            timed: story.timed,
        }
    }
}

/// The wait bars: from the bottom of the waiting step's row (or gap) to
/// the top of the row where its order moved again, or to the end.
fn bars(story: &Story, lanes: usize, span: &[Option<(u32, u32)>], bottom: u32) -> Vec<Bar> {
    let chars = lane_chars(lanes);
    story
        .waits
        .iter()
        .filter(|w| w.lane < lanes)
        .filter_map(|w| {
            let (_, y1) = span[w.from]?;
            let (y2, open) = match w.to.and_then(|t| span[t]) {
                Some((top, _)) => (top.max(y1), false),
                None => (bottom, true),
            };
            let words = match open {
                true => format!("waits for {} (to the end)", w.on),
                false => format!("waits for {}", w.on),
            };
            // Beside the bar, in the right half of its lane, if it fits.
            let mut label = wrap(&words, chars / 2 - 2, 3);
            if label.len() as u32 * LINE > y2 - y1 {
                label.clear();
            }
            Some(Bar {
                lane: w.lane,
                y1,
                y2,
                on: w.on.clone(),
                open,
                label,
            })
        })
        .collect()
}

/// The lines under the picture: the verdict, the final rows, and what the
/// picture leaves out or abbreviates.
fn notes(
    story: &Story,
    lanes: usize,
    visible: usize,
    parts: &[Range<usize>],
    marked: bool,
) -> Vec<String> {
    let mut notes = vec![story.verdict.clone()];
    notes.extend(story.finals.iter().cloned());
    if story.lanes.len() > lanes {
        notes.push(format!(
            "orders T{} to T{} are not drawn ({} step(s) of theirs; the picture has lanes for the first {MAX_LANES} orders); `replay` prints every step",
            lanes + 1,
            story.lanes.len(),
            story.steps.len() - visible
        ));
    }
    let drawn: usize = parts.iter().map(|p| p.len()).sum();
    if drawn < visible {
        let around = match marked {
            true => format!(", {AROUND} either side of the violation"),
            false => String::new(),
        };
        notes.push(format!(
            "{drawn} of {visible} steps drawn: the first {HEAD}{around} and the last {TAIL}; `replay` prints every step"
        ));
    }
    if lane_chars(lanes) < 40 && story.steps.iter().any(|s| s.text.contains(MORE_COLUMNS)) {
        notes.push("SELECT stocked_quantity, … reads stocked_quantity, reserved_quantity, version (a box's tooltip shows its whole statement)".into());
    }
    if story.trace_len > story.steps.len() {
        notes.push("sleeps and wake-ups (latency, think time, backoff) are not drawn; the time column says when each step happened".into());
    }
    notes
}
