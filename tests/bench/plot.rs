//! The benchmark page's plots, drawn by gnuplot: the latency distributions
//! of rbmc and ipmi_sim under the same load (and `fan_step.rs`'s step
//! response) (Debian's `gnuplot-nox`,
//! which `tests/bench/compare.sh` installs when missing) into a PNG.

use std::{
    fmt::Write as _,
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

/// One line of the plot: its title and every latency measured.
pub struct Series<'a> {
    /// The legend's text.
    pub title: String,
    /// The latencies, in any order.
    pub latencies: &'a [Duration],
}

/// Draws the cumulative distribution of each series (latency on a log
/// axis, the share of requests answered within it) into `png`.
pub fn latency_distributions(png: &Path, heading: &str, series: &[Series]) -> Result<(), String> {
    let data_dir = std::env::temp_dir().join(format!("rbmc-bench-plot-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
    let mut plots = Vec::new();
    for (index, line) in series.iter().enumerate() {
        let mut sorted = line.latencies.to_vec();
        sorted.sort_unstable();
        if sorted.is_empty() {
            continue;
        }
        // One point per 0.1% of the requests, and the slowest.
        let mut data = String::new();
        for per_mille in 0..1000 {
            let at = (sorted.len() * per_mille / 1000).min(sorted.len() - 1);
            let _ = writeln!(
                data,
                "{:.1} {:.1}",
                sorted[at].as_secs_f64() * 1e6,
                per_mille as f64 / 10.0
            );
        }
        let _ = writeln!(
            data,
            "{:.1} 100.0",
            sorted[sorted.len() - 1].as_secs_f64() * 1e6
        );
        let file = data_dir.join(format!("series-{index}.dat"));
        std::fs::write(&file, data).map_err(|e| e.to_string())?;
        plots.push(format!(
            "'{}' using 1:2 with lines linewidth 2 title '{}'",
            file.display(),
            line.title.replace('\'', "")
        ));
    }
    let script = format!(
        "set terminal pngcairo size 960,540 font 'sans,11' noenhanced\n\
         set output '{}'\n\
         set title '{}'\n\
         set logscale x\n\
         set xlabel 'latency, µs (log scale)'\n\
         set ylabel 'requests answered within it, %'\n\
         set yrange [0:100]\n\
         set grid\n\
         set key bottom right\n\
         plot {}\n",
        png.display(),
        heading.replace('\'', ""),
        plots.join(", ")
    );
    let drawn = run_gnuplot(&script);
    let _ = std::fs::remove_dir_all(&data_dir);
    drawn
}

/// Runs gnuplot on `script`.
pub fn run_gnuplot(script: &str) -> Result<(), String> {
    let out = Command::new("gnuplot")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .map_err(|e| format!("gnuplot (install gnuplot-nox): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "gnuplot failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}
