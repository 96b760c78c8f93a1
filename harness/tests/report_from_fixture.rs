//! `gaslab report`, `plot` and `export` on a multi-night fixture: every
//! chart kind is produced, regressions since the previous night are found
//! and explained, and bad or empty inputs get clear errors.

mod common;
mod nightly_fixture;

use common::*;

#[test]
fn the_fixture_is_accepted_by_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let files = nightly_fixture::write(tmp.path());
    let args: Vec<&str> = std::iter::once("validate")
        .chain(files.iter().map(|f| f.to_str().unwrap()))
        .collect();
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn report_writes_page_summary_and_every_chart_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    nightly_fixture::write(&results);
    let out_dir = tmp.path().join("report");
    let out = run(&[
        "report",
        results.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let page = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    let plots: Vec<String> = std::fs::read_dir(out_dir.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for kind in [
        "allocators",
        "scaling",
        "history",
        "machines",
        "schedulers",
        "counters",
    ] {
        for ext in ["svg", "png"] {
            assert!(
                plots
                    .iter()
                    .any(|p| p.starts_with(kind) && p.ends_with(ext)),
                "no {kind} .{ext} among {plots:?}"
            );
        }
    }
    // Every image the page shows exists beside it.
    for src in page.split("<img src=\"").skip(1) {
        let src = &src[..src.find('"').unwrap()];
        assert!(out_dir.join(src).is_file(), "{src} missing");
        assert!(
            !src.starts_with('/') && !src.contains("://"),
            "{src} not relative"
        );
    }
    // The x86 host's last night lost 20% with a kernel and rustc change.
    assert!(
        page.contains("kernel.release: 6.5.0-44-generic -&gt; 6.8.0-49-generic"),
        "explanation names the kernel"
    );
    assert!(page.contains("toolchain.rustc: rustc 1.91.0 -&gt; rustc 1.92.0"));
    assert!(page.contains("class=\"regression\""));
    // The Graviton's last two nights ran the same code on the same machine:
    // nothing to report there.
    assert!(
        page.contains("graviton3-5e6f7a8b: 2026-11-23T02:00:00Z &rarr; 2026-11-24T02:00:00Z &mdash; 0 regression(s)"),
        "the Graviton is within noise"
    );
    assert!(page.contains("ci-x86-0a1b2c3d: 2026-11-23T02:00:00Z &rarr; 2026-11-24T02:00:00Z &mdash; 15 regression(s)"));
    assert!(page.contains("-20."), "the change is shown as about -20%");
    assert!(page.contains("Detection limit") && page.contains("Not recorded: no calibration"));
    // No network: nothing fetched from elsewhere.
    assert!(!page.contains("http://") && !page.contains("https://"));
    let summary = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("regressions") && summary.contains(nightly_fixture::X86),
        "{summary}"
    );
    assert!(summary.contains("kernel.release"), "{summary}");
}

#[test]
fn plot_draws_from_files_and_says_why_a_chart_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let files = nightly_fixture::write(tmp.path());
    // One night of one machine: no history, no machines, but allocators.
    let out_dir = tmp.path().join("plots");
    let out = run(&[
        "plot",
        files[0].to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let msg = text(&out);
    assert!(out.status.success(), "{msg}");
    assert!(
        msg.contains("History: not recorded: no cell was measured on two or more nights"),
        "{msg}"
    );
    assert!(
        msg.contains("Machines: not recorded: only one machine"),
        "{msg}"
    );
    assert!(
        msg.contains("Counters: not recorded: hardware counters"),
        "{msg}"
    );
    assert!(
        out_dir
            .join("allocators-ci-x86-0a1b2c3d-evm-transfers-seed-1-txs-2000-threads-1.png")
            .is_file(),
        "{msg}"
    );
}

#[test]
fn empty_inputs_and_tampered_sets_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for cmd in ["report", "plot"] {
        let out = run(&[
            cmd,
            empty.to_str().unwrap(),
            "--out",
            tmp.path().join("o").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains("no ") && text(&out).contains(empty.to_str().unwrap()),
            "{}",
            text(&out)
        );
    }
    let results = tmp.path().join("results");
    let files = nightly_fixture::write(&results);
    let body =
        std::fs::read_to_string(&files[1])
            .unwrap()
            .replacen("\"wall_ns\": ", "\"wall_ns\": 1", 1);
    std::fs::write(&files[1], body).unwrap();
    let out_dir = tmp.path().join("report");
    let out = run(&[
        "report",
        results.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "a refused set is an error");
    let page = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    assert!(
        page.contains("Refused result sets") && page.contains("sha256"),
        "the page names it"
    );
}

#[test]
fn exports_parse_back() {
    let tmp = tempfile::tempdir().unwrap();
    let files = nightly_fixture::write(tmp.path());
    let last_x86 = &files[4];
    let csv = run(&["export", last_x86.to_str().unwrap(), "--format", "csv"]);
    assert!(csv.status.success(), "{}", text(&csv));
    let mut reader = csv::Reader::from_reader(&csv.stdout[..]);
    let headers = reader.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "metric.speedup"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    // 5 allocator + 8 scaling + 2 scheduler cells x 14 samples; the failed cell has none.
    assert_eq!(rows.len(), 15 * 14);
    assert!(rows.iter().all(|r| r.len() == headers.len()));
    let gps = headers.iter().position(|h| h == "gas_per_sec").unwrap();
    assert!(rows.iter().all(|r| r[gps].parse::<f64>().unwrap() > 1e8));

    let bmf = run(&["export", last_x86.to_str().unwrap(), "--format", "bmf"]);
    let v: serde_json::Value = serde_json::from_slice(&bmf.stdout).expect("BMF is JSON");
    let benches = v.as_object().unwrap();
    assert_eq!(benches.len(), 15, "one benchmark per finished cell");
    for (name, measures) in benches {
        let measures = measures.as_object().unwrap();
        assert!(
            measures.contains_key("gas-per-second") && measures.contains_key("latency"),
            "{name}"
        );
        for (m, metric) in measures {
            let value = metric["value"]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}/{m} value"));
            if let (Some(lo), Some(hi)) = (metric.get("lower_value"), metric.get("upper_value")) {
                assert!(
                    lo.as_f64().unwrap() <= value && value <= hi.as_f64().unwrap(),
                    "{name}/{m}"
                );
            }
            assert!(m.len() <= 64 && name.len() <= 1024);
        }
    }

    let md = run(&["export", last_x86.to_str().unwrap(), "--format", "markdown"]);
    let md = String::from_utf8(md.stdout).unwrap();
    let table: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(table.len(), 2 + 16, "header, rule, one row per cell:\n{md}");
    let columns = table[0].matches('|').count();
    assert!(table
        .iter()
        .all(|l| l.matches('|').count() - l.matches("\\|").count() == columns));
    assert!(md.contains("failed"));

    // --out never overwrites.
    let target = tmp.path().join("x.csv");
    std::fs::write(&target, "keep").unwrap();
    let out = run(&[
        "export",
        last_x86.to_str().unwrap(),
        "--format",
        "csv",
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
}
