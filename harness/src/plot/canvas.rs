//! The drawing pieces every chart shares: the embedded font, the palette,
//! a bar panel with confidence whiskers, a line panel with markers, and a
//! panel that says in words why it has nothing to draw.

use super::DrawResult;
use plotters::coord::ranged1d::SegmentValue;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The family every text uses; backed by the DejaVu Sans we ship, so text
/// renders the same on a bare machine as on a desktop.
pub const FONT: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

pub fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The font is compiled in, so this cannot fail at run time unless the
        // file in the repository is damaged, which the chart tests catch.
        if plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_err() {
            eprintln!("warning: the embedded DejaVu Sans font is not a valid font");
        }
    });
}

pub const BAR: RGBColor = RGBColor(70, 120, 180);
pub const BEST: RGBColor = RGBColor(40, 150, 60);
pub const MARKER: RGBColor = RGBColor(200, 30, 30);
pub const GREY: RGBColor = RGBColor(120, 120, 120);

/// Distinct line colours, in order of use.
pub fn palette(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    P[i % P.len()]
}

/// Draws the chart title and returns the area under it.
pub fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.titled(title, (FONT, 24))
}

/// One bar: its value with an optional confidence interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub best: bool,
}

/// Whether the best bar's interval overlaps another bar's: then "best" is
/// only the highest median, not a significant winner.
fn best_is_tied(bars: &[Bar]) -> bool {
    let Some(best) = bars.iter().find(|b| b.best) else {
        return false;
    };
    bars.iter()
        .filter(|b| !b.best)
        .any(|b| match (best.lower, b.upper) {
            (Some(lo), Some(hi)) => hi >= lo,
            _ => false,
        })
}

/// Bars sharing one axis. `missing` is said instead when there are no bars.
pub struct BarPanel<'a> {
    pub caption: &'a str,
    pub y_label: &'a str,
    pub bars: &'a [Bar],
    pub missing: &'a str,
}

pub fn bar_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &BarPanel,
) -> DrawResult<DB> {
    if panel.bars.is_empty() {
        return message_panel(area, panel.caption, panel.missing);
    }
    let n = panel.bars.len();
    let top = panel
        .bars
        .iter()
        .map(|b| b.value.max(b.upper.unwrap_or(b.value)))
        .fold(0.0f64, f64::max);
    let y_max = if top > 0.0 { top * 1.2 } else { 1.0 };
    let labels: Vec<String> = panel.bars.iter().map(|b| b.label.clone()).collect();
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut chart = ChartBuilder::on(area)
        .caption(panel.caption, (FONT, 19))
        .margin(12)
        .x_label_area_size(if longest > 14 { 56 } else { 36 })
        .y_label_area_size(78)
        .build_cartesian_2d((0..n as i32 - 1).into_segmented(), 0.0..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .light_line_style(WHITE.mix(0.0))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_desc(panel.y_label)
        .y_label_formatter(&|y| axis_number(*y, y_max))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 16))
        .draw()?;
    let width = bar_margin(area.dim_in_pixel().0, n);
    chart.draw_series(panel.bars.iter().enumerate().map(|(i, b)| {
        let colour = if b.best { BEST } else { BAR };
        let mut r = Rectangle::new(
            [
                (SegmentValue::Exact(i as i32), 0.0),
                (SegmentValue::Exact(i as i32 + 1), b.value),
            ],
            colour.filled(),
        );
        r.set_margin(0, 0, width, width);
        r
    }))?;
    // Whiskers: a vertical line with caps, drawn in pixels around the bar's
    // centre (plotters' ErrorBar adds a dot that hides short intervals).
    let whisker = BLACK.stroke_width(2);
    for (i, b) in panel.bars.iter().enumerate() {
        let (Some(lo), Some(hi)) = (b.lower, b.upper) else {
            continue;
        };
        let x = SegmentValue::CenterOf(i as i32);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x.clone(), lo), (x.clone(), hi)],
            whisker,
        )))?;
        chart.draw_series([lo, hi].into_iter().map(|y| {
            EmptyElement::at((x.clone(), y)) + PathElement::new(vec![(-9, 0), (9, 0)], whisker)
        }))?;
    }
    let above = Pos::new(HPos::Center, VPos::Bottom);
    let tied = best_is_tied(panel.bars);
    chart.draw_series(panel.bars.iter().enumerate().map(|(i, b)| {
        let y = b.value.max(b.upper.unwrap_or(b.value)) + y_max * 0.015;
        let text = if b.best && tied {
            format!("best {} (CIs overlap)", short_number(b.value))
        } else if b.best {
            format!("best {}", short_number(b.value))
        } else {
            short_number(b.value)
        };
        let style = TextStyle::from((FONT, 14).into_font())
            .pos(above)
            .color(if b.best { &BEST } else { &BLACK });
        Text::new(text, (SegmentValue::CenterOf(i as i32), y), style)
    }))?;
    Ok(())
}

/// Pixels left either side of a bar, so bars stay a readable width.
fn bar_margin(width_px: u32, bars: usize) -> u32 {
    let slot = width_px / (bars as u32 + 1);
    (slot / 5).clamp(2, 60)
}

/// A line through points, with optional whiskers, solid or dashed.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub colour: RGBColor,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
    /// (x, lower, upper) for each point that has an interval.
    pub whiskers: Vec<(f64, f64, f64)>,
}

/// A vertical marker with a label (a change point).
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub label: String,
}

pub struct LinePanel<'a> {
    pub caption: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub lines: &'a [Line],
    pub markers: &'a [Marker],
    /// Names for integer x values (dates, thread counts); numbers otherwise.
    pub x_names: Option<&'a [String]>,
    pub x_range: (f64, f64),
    /// Start the y axis at zero (rates compared as ratios), or zoom to the
    /// data (a history, where the change is the point).
    pub y_from_zero: bool,
}

pub fn line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &LinePanel,
) -> DrawResult<DB> {
    let ys = panel
        .lines
        .iter()
        .flat_map(|l| {
            l.points
                .iter()
                .map(|p| p.1)
                .chain(l.whiskers.iter().flat_map(|w| [w.1, w.2]))
        })
        .filter(|y| y.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    let lo = if panel.y_from_zero { lo.min(0.0) } else { lo };
    let (y_lo, y_hi) = if lo.is_finite() && hi > lo {
        let pad = (hi - lo) * 0.12;
        ((lo - pad).max(0.0), hi + pad * 2.0)
    } else if lo.is_finite() {
        ((lo * 0.9).max(0.0), hi * 1.1 + 1e-9)
    } else {
        (0.0, 1.0)
    };
    let (x_lo, x_hi) = panel.x_range;
    let mut chart = ChartBuilder::on(area)
        .caption(panel.caption, (FONT, 19))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(78)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
    let names = panel.x_names;
    let x_count = names.map(|n| n.len()).unwrap_or(10).clamp(2, 12);
    chart
        .configure_mesh()
        .x_labels(x_count)
        .x_label_formatter(&|x| match names {
            Some(names) => {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
            None => axis_number(*x, x_hi - x_lo),
        })
        .x_desc(panel.x_label)
        .y_desc(panel.y_label)
        .y_label_formatter(&|y| axis_number(*y, y_hi - y_lo))
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for (i, m) in panel.markers.iter().enumerate() {
        chart.draw_series(DashedLineSeries::new(
            vec![(m.x, y_lo), (m.x, y_hi)],
            8,
            5,
            MARKER.stroke_width(2),
        ))?;
        // Stagger labels so neighbouring change points stay readable.
        let y = y_hi - (y_hi - y_lo) * (0.04 + 0.07 * (i % 3) as f64);
        // Labels of markers in the right half go to the left of the line,
        // so they stay inside the plot.
        let right_half = m.x > (x_lo + x_hi) / 2.0;
        let (anchor, dx) = if right_half {
            (HPos::Right, -(x_hi - x_lo) * 0.006)
        } else {
            (HPos::Left, (x_hi - x_lo) * 0.006)
        };
        let style = TextStyle::from((FONT, 14).into_font())
            .color(&MARKER)
            .pos(Pos::new(anchor, VPos::Top));
        let label: String = if m.label.chars().count() > 70 {
            m.label
                .chars()
                .take(69)
                .chain(std::iter::once('…'))
                .collect()
        } else {
            m.label.clone()
        };
        chart.draw_series(std::iter::once(Text::new(label, (m.x + dx, y), style)))?;
    }
    for line in panel.lines {
        let style = line.colour.stroke_width(if line.dashed { 2 } else { 3 });
        let legend_colour = line.colour;
        if line.dashed {
            chart
                .draw_series(DashedLineSeries::new(line.points.clone(), 10, 6, style))?
                .label(line.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 10, y)], legend_colour.stroke_width(2))
                });
        } else {
            chart
                .draw_series(LineSeries::new(line.points.clone(), style))?
                .label(line.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 22, y)], legend_colour.stroke_width(3))
                });
            chart.draw_series(
                line.points
                    .iter()
                    .map(|p| Circle::new(*p, 4, line.colour.filled())),
            )?;
        }
        chart.draw_series(line.whiskers.iter().map(|(x, lo, hi)| {
            let mid = line
                .points
                .iter()
                .find(|p| p.0 == *x)
                .map(|p| p.1)
                .unwrap_or((lo + hi) / 2.0);
            ErrorBar::new_vertical(*x, *lo, mid, *hi, line.colour.stroke_width(1), 10)
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .label_font((FONT, 15))
        .draw()?;
    Ok(())
}

/// A captioned panel that says in words why it has no data.
pub fn message_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    message: &str,
) -> DrawResult<DB> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new(
        [(8, 8), (w as i32 - 8, h as i32 - 8)],
        GREY.stroke_width(1),
    ))?;
    let centre = Pos::new(HPos::Center, VPos::Center);
    area.draw(&Text::new(
        caption.to_string(),
        (w as i32 / 2, 36),
        TextStyle::from((FONT, 19).into_font()).pos(centre),
    ))?;
    let per_line = ((w as usize).saturating_sub(40) / 9).max(20);
    for (i, line) in wrap(message, per_line).iter().enumerate() {
        area.draw(&Text::new(
            line.clone(),
            (w as i32 / 2, h as i32 / 2 + i as i32 * 22 - 11),
            TextStyle::from((FONT, 16).into_font())
                .color(&GREY)
                .pos(centre),
        ))?;
    }
    Ok(())
}

/// Greedy word wrap at `width` characters.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("never empty");
        if !last.is_empty() && last.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// A tick label with as many decimals as the axis's span needs, the same
/// for every tick of the axis (so 0.5, 1.0, 1.5 rather than 0.500, 1.00).
pub fn axis_number(v: f64, span: f64) -> String {
    let decimals = if span > 0.0 {
        (1.0 - span.log10().floor()).clamp(0.0, 6.0) as usize
    } else {
        2
    };
    format!("{v:.decimals$}")
}

/// A compact tick or value label: 3 significant digits, no trailing noise.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(
            wrap("one two three four", 9),
            vec!["one two", "three", "four"]
        );
        assert_eq!(short_number(1234.5), "1234");
        assert_eq!(short_number(0.04567), "0.046");
        assert_eq!(axis_number(0.5, 2.5), "0.5");
        assert_eq!(axis_number(560.0, 140.0), "560");
        assert_eq!(axis_number(0.25, 0.6), "0.25");
    }
}
