//! The `gaslab` command. Parses arguments and dispatches; the work lives in
//! the modules named after each step of the flow.

mod analysis;
mod analysis_cli;
mod cli;
mod error;
mod export;
mod fetch;
mod fingerprint;
mod plot;
mod profile;
mod replay;
mod report;
mod run;
mod stats;
mod store;

use clap::Parser;
use cli::{Cli, Command};
use error::{LabError, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn main() {
    let cli = Cli::parse();
    let code = match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
    };
    std::process::exit(code);
}

fn dispatch(cli: Cli) -> Result<i32, LabError> {
    match cli.command {
        Command::Run {
            profile,
            results,
            workers,
            budget,
        } => {
            let profile = profile::Profile::load(&profile)?;
            let workers = workers.unwrap_or_else(default_workers_dir);
            let interrupted = Arc::new(AtomicBool::new(false));
            let flag = interrupted.clone();
            ctrlc::set_handler(move || {
                if flag.swap(true, Ordering::SeqCst) {
                    eprintln!("\nsecond Ctrl-C: leaving now");
                    std::process::exit(EXIT_INTERRUPTED);
                }
                eprintln!("\nCtrl-C: stopping; saving what was measured");
            })
            .map_err(|e| LabError::Other(format!("cannot install Ctrl-C handler: {e}")))?;
            let outcome = run::run_profile(
                &profile,
                &workers,
                &results,
                interrupted.clone(),
                budget.map(std::time::Duration::from_secs_f64),
            )?;
            print!("{}", report::print_table(&outcome.content));
            let failed = outcome
                .content
                .cells
                .iter()
                .filter(|c| c.status != store::CellStatus::Ok)
                .count();
            if failed > 0 {
                println!(
                    "{failed} of {} cells did not finish ok",
                    outcome.content.cells.len()
                );
            }
            if let Some(s) = analysis::sampling::savings(&outcome.content) {
                println!(
                    "adaptive sampling: {} of {} samples in {} cells ({} saved, {:.0}%)",
                    s.taken,
                    s.fixed,
                    s.cells,
                    s.saved(),
                    s.saved_fraction() * 100.0
                );
            }
            println!("{}", outcome.path.display());
            Ok(if interrupted.load(Ordering::SeqCst) {
                EXIT_INTERRUPTED
            } else {
                EXIT_OK
            })
        }
        Command::Show { file } => {
            let set = store::load(&file)?;
            print!("{}", report::print_table(&set.content));
            Ok(EXIT_OK)
        }
        Command::Validate { files } => {
            let mut bad = 0;
            for file in &files {
                match store::load(file) {
                    Ok(set) => println!(
                        "{}: ok (schema {}, {} cells, sha256 {})",
                        file.display(),
                        set.schema_version,
                        set.content.cells.len(),
                        &set.sha256[..16]
                    ),
                    Err(e) => {
                        eprintln!("error: {e}");
                        bad += 1;
                    }
                }
            }
            Ok(if bad == 0 { EXIT_OK } else { EXIT_ERROR })
        }
        Command::Counters { file } => {
            let set = store::load(&file)?;
            print!("{}", report::print_counters(&set.content));
            Ok(EXIT_OK)
        }
        Command::Env {
            diff: Some(files), ..
        } => {
            let a = store::load(&files[0])?;
            let b = store::load(&files[1])?;
            let groups = fingerprint::diff::diff(
                &fingerprint::diff::environment(&a.content),
                &fingerprint::diff::environment(&b.content),
            );
            print!("{}", fingerprint::diff::render(&groups));
            Ok(EXIT_OK)
        }
        Command::Env {
            workers,
            diff: None,
        } => {
            let workers = workers.unwrap_or_else(default_workers_dir);
            let build = match run::identify(&workers, "system") {
                Ok(gaslab_protocol::WorkerMessage::Hello { build, .. }) => Some(build),
                _ => None,
            };
            let f = fingerprint::take(build.as_ref());
            let mut out = serde_json::Map::new();
            out.insert("machine_id".into(), fingerprint::machine_id(&f).into());
            out.insert(
                "fingerprint".into(),
                serde_json::to_value(&f).expect("map serializes"),
            );
            println!("{}", serde_json::to_string_pretty(&out).expect("json"));
            Ok(EXIT_OK)
        }
        Command::Compare {
            baseline,
            candidate,
            noise,
            alpha,
            across_fingerprints,
            calibration,
            format,
        } => analysis_cli::compare(
            &baseline,
            &candidate,
            noise,
            alpha,
            across_fingerprints,
            calibration.as_deref(),
            format,
        ),
        Command::History {
            results,
            detection,
            format,
        } => analysis_cli::history(&results, &detection, format),
        Command::Explain {
            paths,
            cell,
            detection,
            format,
        } => analysis_cli::explain(&paths, cell.as_deref(), &detection, format),
        Command::Calibrate {
            profile,
            sizes,
            rounds,
            allocators,
            noise,
            alpha,
            results,
            workers,
            format,
        } => {
            let workers = workers.unwrap_or_else(default_workers_dir);
            let interrupted = Arc::new(AtomicBool::new(false));
            let flag = interrupted.clone();
            ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
                .map_err(|e| LabError::Other(format!("cannot install Ctrl-C handler: {e}")))?;
            analysis_cli::calibrate(
                &profile,
                &workers,
                &results,
                sizes,
                rounds,
                allocators,
                noise,
                alpha,
                format,
                &interrupted,
            )
        }
        Command::Replay {
            blocks,
            threads,
            executor,
            format,
            runs,
            allocator,
            workers,
        } => {
            let workers = workers.unwrap_or_else(default_workers_dir);
            let request = replay::ReplayRequest {
                blocks,
                threads,
                executor,
                format,
                runs,
                allocator,
            };
            Err(replay::exec_worker(&workers, &request))
        }
        Command::Fetch {
            rpc_url,
            blocks,
            out,
        } => {
            for dir in fetch::fetch(&rpc_url, &blocks, &out)? {
                println!("{}", dir.display());
            }
            Ok(EXIT_OK)
        }
        Command::Plot { results, out } => plot_command(&results, &out),
        Command::Report {
            results,
            out,
            missing,
        } => report_command(&results, &out, missing),
        Command::Export {
            result,
            format,
            out,
        } => export_command(&result, format, out.as_deref()),
    }
}

fn plot_command(results: &[PathBuf], out: &Path) -> Result<i32, LabError> {
    let (sets, refused) = report::load_all(results)?;
    for r in &refused {
        eprintln!("refused: {}: {}", r.path.display(), r.reason);
    }
    if sets.is_empty() {
        return Err(LabError::Other(format!(
            "no usable result sets in {}; nothing to plot",
            results
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut drawn = 0;
    for section in report::draw_all(&sets, None, out)? {
        for r in &section.rendered {
            match r {
                plot::Rendered::Drawn(f) => {
                    drawn += 1;
                    println!("{}: {}", section.heading, f.png.display());
                }
                plot::Rendered::NotDrawn { title, reason } => {
                    println!("{}: not drawn: {title}: {reason}", section.heading)
                }
            }
        }
        for m in &section.missing {
            println!("{}: not recorded: {m}", section.heading);
        }
    }
    println!("{drawn} chart(s) drawn in {} (SVG and PNG)", out.display());
    Ok(if refused.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

fn report_command(results: &[PathBuf], out: &Path, missing: Vec<String>) -> Result<i32, LabError> {
    // A result set the analysis refuses is listed by the report itself;
    // the page is still written from the rest.
    let mut analyses = analysis::for_report::analyses_for_report(results).unwrap_or_else(|e| {
        eprintln!("warning: no change points or detection limits in the report: {e}");
        report::Analyses::default()
    });
    analyses.missing_hosts = missing;
    let files = report::write_report(results, out, &analyses)?;
    println!(
        "{} chart(s), {} regression(s) since the previous night",
        files.charts_drawn, files.regressions
    );
    println!("{}", files.summary.display());
    println!("{}", files.page.display());
    if files.refused > 0 {
        eprintln!(
            "error: {} result set(s) refused (listed in the report)",
            files.refused
        );
        return Ok(EXIT_ERROR);
    }
    Ok(EXIT_OK)
}

fn export_command(
    result: &Path,
    format: export::Format,
    out: Option<&Path>,
) -> Result<i32, LabError> {
    let set = store::load(result)?;
    let text = export::export(&set.content, format);
    match out {
        None => print!("{text}"),
        Some(path) => {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| LabError::file(path, format!("cannot create export: {e}")))?;
            f.write_all(text.as_bytes())
                .map_err(|e| LabError::file(path, format!("cannot write export: {e}")))?;
        }
    }
    Ok(EXIT_OK)
}

/// Workers sit beside the `gaslab` binary in cargo's target directory.
fn default_workers_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."))
}
