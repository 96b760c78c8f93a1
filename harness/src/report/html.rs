//! The report page: one static HTML file with relative links to its plots,
//! so it opens from a file:// URL with no server and no network. A small
//! inline script checks on load that every image decoded and every table
//! has rows, shows a banner if not, and leaves the counts on <body> for the
//! browser test.

use super::figures::FigureSection;
use super::nightly::{NightComparison, Verdict, NOISE_BAND};
use super::series::scheduler_setting;
use super::sets::{latest_per_machine, LoadedSet, Refused};
use super::table::{cell_summary, format_rate, rate_unit};
use super::DetectionLimit;
use crate::plot::Rendered;
use std::fmt::Write;
use std::path::Path;

pub struct Page<'a> {
    pub results: &'a [std::path::PathBuf],
    pub generated_at: &'a str,
    pub sets: &'a [LoadedSet],
    pub refused: &'a [Refused],
    pub figures: &'a [FigureSection],
    pub nights: &'a [NightComparison],
    pub detection_limits: &'a [DetectionLimit],
    pub missing_hosts: &'a [String],
    /// The directory the page is written to; image links are relative to it.
    pub out: &'a Path,
}

pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A table with a header and at least one row; None if there are no rows,
/// so a page never carries an empty table.
fn table(headers: &[&str], rows: &[Vec<String>], class: &str) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let mut s = format!("<table class=\"{class}\"><thead><tr>");
    for h in headers {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr></thead><tbody>\n");
    for row in rows {
        s.push_str("<tr>");
        for c in row {
            let _ = write!(s, "<td>{}</td>", escape(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>\n");
    Some(s)
}

fn note(text: &str) -> String {
    format!("<p class=\"not-recorded\">{}</p>\n", escape(text))
}

fn relative(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em auto;max-width:1400px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{border-bottom:2px solid #ccd;padding-bottom:.2em;margin-top:2em}\
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #ccd;padding:.25em .6em;text-align:left}\
th{background:#eef}td.num{text-align:right}tr.regression td{background:#fdd}tr.improvement td{background:#dfd}\
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.9em;color:#555}\
.not-recorded{color:#666;font-style:italic;border-left:4px solid #ccc;padding-left:.6em}\
.alert{background:#fdd;border:1px solid #c33;padding:.6em}#page-check{display:none}";

const CHECK: &str = r#"<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0, bad = [];
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } else { bad.push(imgs[i].getAttribute('src')); }
  }
  var tables = document.querySelectorAll('table'), empty = 0;
  for (var j = 0; j < tables.length; j++) {
    var body = tables[j].tBodies[0];
    if (!body || body.rows.length === 0) { empty++; }
  }
  var b = document.body;
  b.setAttribute('data-images-total', imgs.length);
  b.setAttribute('data-images-ok', ok);
  b.setAttribute('data-tables-total', tables.length);
  b.setAttribute('data-tables-empty', empty);
  b.setAttribute('data-checked', 'yes');
  if (bad.length || empty) {
    var p = document.getElementById('page-check');
    p.textContent = 'This page is incomplete: ' + bad.length + ' image(s) did not load (' + bad.join(', ') + '), ' + empty + ' empty table(s).';
    p.style.display = 'block';
  }
});
</script>"#;

pub fn render(page: &Page) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>gaslab report</title>\n");
    let _ = writeln!(h, "<style>{STYLE}</style>\n{CHECK}\n</head><body>");
    h.push_str("<p id=\"page-check\" class=\"alert\"></p>\n");
    h.push_str("<h1>gaslab report</h1>\n");
    let inputs: Vec<String> = page
        .results
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let _ = writeln!(
        h,
        "<p>Generated {} from {} result set(s) in {}.</p>",
        escape(page.generated_at),
        page.sets.len(),
        escape(&inputs.join(", "))
    );
    if !page.missing_hosts.is_empty() {
        let _ = writeln!(
            h,
            "<div class=\"alert\"><strong>Missing hosts</strong>: no result set tonight from {}.</div>",
            escape(&page.missing_hosts.join(", "))
        );
    }
    if !page.refused.is_empty() {
        let rows: Vec<Vec<String>> = page
            .refused
            .iter()
            .map(|r| vec![r.path.display().to_string(), r.reason.clone()])
            .collect();
        h.push_str("<div class=\"alert\"><strong>Refused result sets</strong> (not used in this report):\n");
        h.push_str(&table(&["file", "why"], &rows, "refused").unwrap_or_default());
        h.push_str("</div>\n");
    }
    contents(&mut h, page);
    latest_tables(&mut h, page);
    regressions(&mut h, page);
    detection_limit(&mut h, page);
    for section in page.figures {
        figures(&mut h, section, page.out);
    }
    h.push_str("</body></html>\n");
    h
}

fn contents(h: &mut String, page: &Page) {
    h.push_str("<nav><ul>\n<li><a href=\"#latest\">Latest results</a></li>\n<li><a href=\"#regressions\">Since the previous night</a></li>\n<li><a href=\"#detection\">Detection limit</a></li>\n");
    for s in page.figures {
        let _ = writeln!(
            h,
            "<li><a href=\"#{}\">{}</a></li>",
            s.heading.to_lowercase(),
            s.heading
        );
    }
    h.push_str("</ul></nav>\n");
}

fn latest_tables(h: &mut String, page: &Page) {
    h.push_str("<h2 id=\"latest\">Latest results</h2>\n");
    let latest = latest_per_machine(page.sets);
    if latest.is_empty() {
        h.push_str(&note("No result sets were found."));
        return;
    }
    for set in latest {
        let c = &set.content;
        let _ = writeln!(
            h,
            "<h3>{} &mdash; {} (profile {}, gaslab {}{}){}</h3>",
            escape(&c.machine_id),
            escape(&c.started_at),
            escape(&c.profile.name),
            escape(&c.gaslab.commit),
            if c.gaslab.dirty { ", dirty tree" } else { "" },
            if c.complete {
                ""
            } else {
                " &mdash; incomplete (interrupted)"
            }
        );
        let _ = writeln!(
            h,
            "<p>File: <code>{}</code></p>",
            escape(&set.path.display().to_string())
        );
        let rows: Vec<Vec<String>> = c
            .cells
            .iter()
            .map(|cell| {
                let s = cell_summary(cell);
                let ci = match (s.median_rate, s.ci_lower, s.ci_upper) {
                    (Some(m), Some(l), Some(u)) => {
                        let (div, unit) = rate_unit(m, &s.measure);
                        format!("{:.3} .. {:.3} {unit}", l / div, u / div)
                    }
                    _ => "-".into(),
                };
                let params: Vec<String> = cell
                    .spec
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                vec![
                    cell.spec.workload.clone(),
                    params.join(", "),
                    cell.spec.threads.to_string(),
                    cell.allocator.clone(),
                    scheduler_setting(cell).unwrap_or_else(|| "-".into()),
                    s.median_rate
                        .map(|m| format_rate(m, &s.measure))
                        .unwrap_or_else(|| "-".into()),
                    ci,
                    s.samples.to_string(),
                    s.cv.map(|v| format!("{:.1}%", v * 100.0))
                        .unwrap_or_else(|| "-".into()),
                    match &cell.status {
                        crate::store::CellStatus::Failed { reason }
                        | crate::store::CellStatus::TimedOut { reason }
                        | crate::store::CellStatus::Skipped { reason } => {
                            format!("{}: {reason}", cell.status.label())
                        }
                        other => other.label().to_string(),
                    },
                ]
            })
            .collect();
        match table(
            &[
                "workload",
                "params",
                "threads",
                "allocator",
                "scheduler",
                "median rate",
                "95% CI",
                "samples",
                "CV",
                "status",
            ],
            &rows,
            "cells",
        ) {
            Some(t) => h.push_str(&t),
            None => h.push_str(&note("This result set has no cells.")),
        }
        let fp: Vec<Vec<String>> = c
            .fingerprint_start
            .iter()
            .map(|(k, v)| {
                let end = c.fingerprint_end.get(k);
                let v = match end {
                    Some(e) if e != v => format!("{v} (at end: {e})"),
                    _ => v.clone(),
                };
                vec![k.clone(), v]
            })
            .collect();
        if let Some(t) = table(&["field", "value"], &fp, "fingerprint") {
            let _ = write!(
                h,
                "<details><summary>Machine fingerprint ({} fields)</summary>\n{t}</details>\n",
                fp.len()
            );
        }
    }
}

fn regressions(h: &mut String, page: &Page) {
    h.push_str("<h2 id=\"regressions\">Since the previous night</h2>\n");
    let _ = writeln!(
        h,
        "<p>Per cell, the latest set against the one before it on the same machine. A change counts when it is larger than {:.0}% and the two nights' 95% bootstrap intervals do not overlap; the explanation lists what differs between the two runs besides the code's numbers.</p>",
        NOISE_BAND * 100.0
    );
    if page.nights.is_empty() {
        h.push_str(&note("Not recorded: no machine has two or more result sets yet, so there is no previous night to compare with."));
        return;
    }
    for n in page.nights {
        let count = n.regressions().count();
        let _ = writeln!(
            h,
            "<h3>{}: {} &rarr; {} &mdash; {} regression(s)</h3>",
            escape(&n.machine),
            escape(&n.previous_started),
            escape(&n.latest_started),
            count
        );
        let _ = writeln!(
            h,
            "<p><strong>What changed:</strong> {}</p>",
            escape(&n.explanation())
        );
        if n.changes.is_empty() {
            h.push_str(&note("The two nights share no finished cell."));
            continue;
        }
        let mut rows = String::new();
        for c in &n.changes {
            let (div, unit) = rate_unit(c.previous.0.max(c.latest.0), &c.measure);
            let class = match c.verdict {
                Verdict::Regression => "regression",
                Verdict::Improvement => "improvement",
                Verdict::WithinNoise => "same",
            };
            let _ = writeln!(
                rows,
                "<tr class=\"{class}\"><td>{}</td><td class=\"num\">{:.3} [{:.3} .. {:.3}] {unit}</td><td class=\"num\">{:.3} [{:.3} .. {:.3}] {unit}</td><td class=\"num\">{:+.1}%</td><td>{}</td></tr>",
                escape(&c.cell),
                c.previous.0 / div, c.previous.1 / div, c.previous.2 / div,
                c.latest.0 / div, c.latest.1 / div, c.latest.2 / div,
                c.change * 100.0,
                c.verdict.label()
            );
        }
        let _ = write!(
            h,
            "<table class=\"changes\"><thead><tr><th>cell</th><th>previous median [95% CI]</th><th>latest median [95% CI]</th><th>change</th><th>verdict</th></tr></thead><tbody>\n{rows}</tbody></table>\n"
        );
    }
}

fn detection_limit(h: &mut String, page: &Page) {
    h.push_str("<h2 id=\"detection\">Detection limit</h2>\n");
    if page.detection_limits.is_empty() {
        h.push_str(&note("Not recorded: no calibration result is available for these machines, so the smallest change this lab can detect here is unknown. Run the calibration (injected slowdowns) to measure it."));
        return;
    }
    let rows: Vec<Vec<String>> = page
        .detection_limits
        .iter()
        .map(|d| {
            vec![
                d.machine.clone(),
                match d.smallest_detectable_pct {
                    Some(x) => format!("{x:.1}%"),
                    None => format!("more than {:.1}%", d.largest_tested_pct),
                },
                format!("{:.1}%", d.false_alarm_rate * 100.0),
                d.source.clone(),
            ]
        })
        .collect();
    for d in page.detection_limits {
        let _ = writeln!(
            h,
            "<p>On {}: {}.</p>",
            escape(&d.machine),
            escape(&d.in_words())
        );
    }
    h.push_str(
        &table(
            &[
                "machine",
                "smallest detectable change (95% power)",
                "false-alarm rate",
                "calibration",
            ],
            &rows,
            "calibration",
        )
        .unwrap_or_default(),
    );
}

fn figures(h: &mut String, s: &FigureSection, out: &Path) {
    let _ = writeln!(
        h,
        "<h2 id=\"{}\">{}</h2>\n<p>{}</p>",
        s.heading.to_lowercase(),
        s.heading,
        escape(s.about)
    );
    for r in &s.rendered {
        match r {
            Rendered::Drawn(f) => {
                let png = relative(&f.png, out);
                let svg = relative(&f.svg, out);
                let _ = writeln!(
                    h,
                    "<figure><img src=\"{}\" alt=\"{}\" loading=\"eager\"><figcaption>{} &mdash; <a href=\"{}\">SVG</a></figcaption></figure>",
                    escape(&png),
                    escape(&f.title),
                    escape(&f.title),
                    escape(&svg)
                );
            }
            Rendered::NotDrawn { title, reason } => {
                h.push_str(&note(&format!("{title}: not drawn: {reason}")));
            }
        }
    }
    for m in &s.missing {
        h.push_str(&note(&format!("Not recorded: {m}")));
    }
}
