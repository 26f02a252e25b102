//! `rbmc-bench fan-step [CONFIG]`: the cooling loop's step response.
//!
//! Runs rbmc-fand's controllers (`fan_control::Zone`) against the
//! simulator's chassis (`rbmc_sim`) on virtual time, through the same seam
//! as on the dev box: readings come from the hwmon files the simulator
//! writes, one poll old (rbmc-sensord's cached value, as rbmc-fand sees it
//! over D-Bus), and PWM goes into the `pwmN` files the simulator reads. The
//! host powers on at 0 s with the load at 20 %, the load steps to 100 % at
//! 600 s, and back to 20 % at 1500 s.
//!
//! For each PID input of each zone it reports, after each step: the
//! settling time (the last moment the reading was outside ±2 °C of its
//! setpoint), the overshoot past the setpoint, and the steady-state error
//! (the mean error over the last 60 s before the next step). It draws
//! temperature and PWM against time into `docs/cooling-step.png` (gnuplot)
//! and prints a Markdown table for docs/BENCHMARKS.md.
//!
//! Virtual time makes the run deterministic and instant; the end-to-end
//! test `tests/cooling.rs` checks the same loop in real time through the
//! real daemons.

use std::{fmt::Write as _, path::Path, time::Duration};

use fan_control::{ControllerSettings, Poll, Reading, Zone};
use rbmc_config::Config;
use rbmc_sim::Simulator;

/// The simulator's step, as rbmc-dev's.
const SIM_STEP: Duration = Duration::from_millis(250);
/// When the load steps up, and back down.
const STEP_UP: Duration = Duration::from_secs(600);
const STEP_DOWN: Duration = Duration::from_secs(1500);
const END: Duration = Duration::from_secs(2400);
/// The band a settled reading stays in.
const BAND: f64 = 2.0;

/// One zone's record: per poll, the time, each PID input's reading and the
/// zone's PWM.
struct Trace {
    zone: u8,
    inputs: Vec<(String, f64)>,
    rows: Vec<(f64, Vec<f64>, f64)>,
}

pub fn main(args: &[String]) {
    let config_path = args
        .first()
        .map_or_else(|| "configs/dev.toml".to_owned(), Clone::clone);
    let config = Config::from_file(Path::new(&config_path)).unwrap_or_else(|e| {
        eprintln!("rbmc-bench fan-step: {e}");
        std::process::exit(78);
    });
    if config.cooling.zones.is_empty() {
        eprintln!("rbmc-bench fan-step: {config_path} has no [[cooling.zones]]");
        std::process::exit(78);
    }
    let traces = run(&config);
    println!("rbmc-bench fan-step: {config_path}, load 20 % -> 100 % at 600 s -> 20 % at 1500 s (virtual time)");
    println!();
    println!("| zone | input | setpoint | step | settling time (±{BAND} °C) | overshoot | steady-state error |");
    println!("|---|---|---|---|---|---|---|");
    for trace in &traces {
        for (index, (name, setpoint)) in trace.inputs.iter().enumerate() {
            for (label, from, to) in [
                ("20 % → 100 %", STEP_UP, STEP_DOWN),
                ("100 % → 20 %", STEP_DOWN, END),
            ] {
                let m = metrics(trace, index, *setpoint, from, to);
                println!(
                    "| {} | {name} | {setpoint:.1} °C | {label} | {} | {:+.2} °C | {:+.2} °C |",
                    trace.zone,
                    match m.settling {
                        Some(seconds) => format!("{seconds:.0} s"),
                        // Held under the setpoint: the minimum PWM, or
                        // another input, decides the fans.
                        None if m.steady_error < -BAND => "held below (not limiting)".to_owned(),
                        None => "never".to_owned(),
                    },
                    m.overshoot,
                    m.steady_error,
                );
            }
        }
    }
    let png = Path::new("docs/cooling-step.png");
    match plot(png, &traces) {
        Ok(()) => println!("\nplot: {}", png.display()),
        Err(err) => eprintln!("rbmc-bench fan-step: no plot: {err}"),
    }
}

fn run(config: &Config) -> Vec<Trace> {
    let root = std::env::temp_dir().join(format!("rbmc-bench-fan-step-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mut sim = Simulator::new(config, &root).expect("the simulated hwmon tree");
    sim.set_load(Some(0.2));
    sim.set_host_powered(true);
    let poll = Duration::from_millis(config.cooling.poll_ms);
    let mut zones: Vec<(Zone, Trace)> = config
        .cooling
        .zones
        .iter()
        .map(|z| {
            let inputs = z
                .inputs
                .iter()
                .filter_map(|input| match input.controller() {
                    ControllerSettings::Pid(pid) => Some((input.sensor.clone(), pid.setpoint)),
                    ControllerSettings::Stepwise(_) => None,
                })
                .collect();
            (
                Zone::new(z.settings()),
                Trace {
                    zone: z.id,
                    inputs,
                    rows: Vec::new(),
                },
            )
        })
        .collect();
    let mut now = Duration::ZERO;
    let mut next_poll = Duration::ZERO;
    // What rbmc-sensord last read: the previous poll's files.
    let mut cached: Vec<Vec<Reading>> = config
        .cooling
        .zones
        .iter()
        .map(|z| vec![Reading::Unanswered; z.inputs.len()])
        .collect();
    while now <= END {
        if now == STEP_UP {
            sim.set_load(Some(1.0));
        }
        if now == STEP_DOWN {
            sim.set_load(Some(0.2));
        }
        if now >= next_poll {
            next_poll += poll;
            for (i, ((zone, trace), settings)) in
                zones.iter_mut().zip(&config.cooling.zones).enumerate()
            {
                let tachs: Vec<Option<Reading>> = settings
                    .fans
                    .iter()
                    .map(|fan| fan.tach.as_ref().map(|t| file_reading(&sim, t, 1.0)))
                    .collect();
                let decision = zone.poll(&Poll {
                    now,
                    host_on: true,
                    inputs: &cached[i],
                    tachs: &tachs,
                    critical: &[],
                    failed_outputs: &[],
                });
                for (fan, pwm) in settings.fans.iter().zip(&decision.pwm) {
                    let path = sim.attribute(&fan.pwm).expect("a PWM output");
                    let raw = (pwm * 2.55).round();
                    std::fs::write(path, format!("{raw}\n")).expect("the PWM file");
                }
                let readings = trace
                    .inputs
                    .iter()
                    .map(|(name, _)| sim.value(name).unwrap_or(f64::NAN))
                    .collect();
                trace.rows.push((
                    now.as_secs_f64(),
                    readings,
                    decision.pwm.iter().copied().fold(0.0, f64::max),
                ));
                cached[i] = settings
                    .inputs
                    .iter()
                    .map(|input| file_reading(&sim, &input.sensor, 1000.0))
                    .collect();
            }
        }
        sim.step(SIM_STEP).expect("a simulator step");
        now += SIM_STEP;
    }
    let _ = std::fs::remove_dir_all(&root);
    zones.into_iter().map(|(_, trace)| trace).collect()
}

/// A sensor's reading from its hwmon file, as rbmc-sensord takes it.
fn file_reading(sim: &Simulator, sensor: &str, per_unit: f64) -> Reading {
    let value = sim
        .attribute(sensor)
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| text.trim().parse::<f64>().ok());
    value.map_or(Reading::Failed, |raw| Reading::Value(raw / per_unit))
}

struct Metrics {
    settling: Option<f64>,
    overshoot: f64,
    steady_error: f64,
}

/// The step response of input `index` between `from` and `to`.
fn metrics(trace: &Trace, index: usize, setpoint: f64, from: Duration, to: Duration) -> Metrics {
    let (from, to) = (from.as_secs_f64(), to.as_secs_f64());
    let window: Vec<(f64, f64)> = trace
        .rows
        .iter()
        .filter(|(t, _, _)| *t >= from && *t < to)
        .map(|(t, readings, _)| (*t, readings[index]))
        .collect();
    let last_outside = window
        .iter()
        .filter(|(_, reading)| (reading - setpoint).abs() > BAND)
        .map(|(t, _)| *t)
        .fold(None, |_, t| Some(t));
    let settled_at_end = window
        .last()
        .is_some_and(|(_, reading)| (reading - setpoint).abs() <= BAND);
    let settling = match (last_outside, settled_at_end) {
        (_, false) => None,
        (None, true) => Some(0.0),
        (Some(t), true) => Some(t - from),
    };
    let overshoot = window
        .iter()
        .map(|(_, reading)| reading - setpoint)
        .fold(f64::MIN, f64::max);
    let tail: Vec<f64> = window
        .iter()
        .filter(|(t, _)| *t >= to - 60.0)
        .map(|(_, reading)| reading - setpoint)
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let steady_error = tail.iter().sum::<f64>() / tail.len().max(1) as f64;
    Metrics {
        settling,
        overshoot,
        steady_error,
    }
}

/// Temperature (left axis) and PWM (right axis) against time.
fn plot(png: &Path, traces: &[Trace]) -> Result<(), String> {
    let data_dir = std::env::temp_dir().join(format!("rbmc-bench-fan-plot-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).map_err(|e| e.to_string())?;
    let mut plots = Vec::new();
    for trace in traces {
        let mut data = String::new();
        for (t, readings, pwm) in &trace.rows {
            let _ = write!(data, "{t:.2}");
            for reading in readings {
                let _ = write!(data, " {reading:.3}");
            }
            let _ = writeln!(data, " {pwm:.2}");
        }
        let file = data_dir.join(format!("zone-{}.dat", trace.zone));
        std::fs::write(&file, data).map_err(|e| e.to_string())?;
        for (index, (name, setpoint)) in trace.inputs.iter().enumerate() {
            plots.push(format!(
                "'{}' using 1:{} with lines linewidth 2 title 'zone {} {} (setpoint {setpoint:.0} °C)'",
                file.display(),
                index + 2,
                trace.zone,
                name.replace('\'', "")
            ));
        }
        plots.push(format!(
            "'{}' using 1:{} axes x1y2 with lines linewidth 1 dashtype 2 title 'zone {} PWM'",
            file.display(),
            trace.inputs.len() + 2,
            trace.zone
        ));
    }
    let script = format!(
        "set terminal pngcairo size 960,540 font 'sans,11' noenhanced\n\
         set output '{}'\n\
         set title 'Cooling step response: load 20 % -> 100 % at 600 s -> 20 % at 1500 s (simulated chassis, virtual time)'\n\
         set xlabel 'time, s'\n\
         set ylabel 'temperature, °C'\n\
         set y2label 'PWM, %'\n\
         set y2range [0:100]\n\
         set ytics nomirror\n\
         set y2tics\n\
         set grid\n\
         set key bottom right\n\
         plot {}\n",
        png.display(),
        plots.join(", ")
    );
    crate::plot::run_gnuplot(&script)
}
