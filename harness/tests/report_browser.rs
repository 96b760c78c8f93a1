//! Loads the report in headless Chromium from a file:// URL and checks
//! that every image decoded and every table has rows. Chromium comes from
//! Debian's packages (`apt-get install -y chromium`, done by .ci/run).

mod common;
mod nightly_fixture;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("chromium is not installed: `apt-get install -y chromium` (.ci/run does this)");
}

/// The DOM after load, as Chromium sees it, with no network and a fresh profile.
fn dump_dom(page: &Path, profile: &Path) -> String {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("chromium did not finish loading {url} in 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && dom.contains("</html>"),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}

fn body_attr(dom: &str, name: &str) -> usize {
    let body = &dom[dom.find("<body").expect("a body")..];
    let body = &body[..body.find('>').unwrap()];
    let needle = format!("{name}=\"");
    let at = body.find(&needle).unwrap_or_else(|| {
        panic!("the page's load check did not run: no {name} on <body>: {body}")
    });
    let rest = &body[at + needle.len()..];
    rest[..rest.find('"').unwrap()].parse().unwrap()
}

#[test]
fn the_report_renders_in_a_browser_with_every_image_and_table() {
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
    let page = out_dir.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();

    let dom = dump_dom(&page, &tmp.path().join("chromium-profile"));
    let images = html.matches("<img ").count();
    let tables = html.matches("<table").count();
    assert!(
        images >= 12,
        "the fixture draws every chart kind: {images} images"
    );
    assert!(tables >= 4, "{tables} tables");
    assert_eq!(body_attr(&dom, "data-images-total"), images);
    assert_eq!(
        body_attr(&dom, "data-images-ok"),
        images,
        "every image decoded"
    );
    assert_eq!(body_attr(&dom, "data-tables-total"), tables);
    assert_eq!(
        body_attr(&dom, "data-tables-empty"),
        0,
        "every table has rows"
    );
}

#[test]
fn the_browser_check_catches_a_missing_image() {
    // The check above must be able to fail: break one image and look again.
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
    let png = std::fs::read_dir(out_dir.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .unwrap();
    std::fs::remove_file(&png).unwrap();
    let dom = dump_dom(
        &out_dir.join("index.html"),
        &tmp.path().join("chromium-profile"),
    );
    let total = body_attr(&dom, "data-images-total");
    assert_eq!(body_attr(&dom, "data-images-ok"), total - 1);
    assert!(dom.contains("This page is incomplete"));
}
