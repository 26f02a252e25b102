//! The EventService (issue 18): a fault injected through the simulator
//! reaches a Server-Sent Events stream (curl, filtered by registry) within
//! 2 s, and a push subscription delivers the same event to a local HTTPS
//! receiver (python's `http.server` with `ssl`). The subscription is kept
//! across a restart of rbmc-redfishd and delivers again after it; a
//! subscriber that keeps failing is retried and then dropped.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use nix::sys::signal::Signal;
use rbmc_e2e::{free_tcp_port, redfish::redfish, repo_root, text, wait_for, Suite, PASSWORD, USER};
use serde_json::Value;

const SUBSCRIPTIONS: &str = "/redfish/v1/EventService/Subscriptions";

/// A local HTTPS receiver of push events, and the file it writes them to.
struct Receiver {
    child: Child,
    port: u16,
    events: PathBuf,
}

impl Receiver {
    fn start(dir: &Path, status: u16) -> Self {
        let (cert, key) = (dir.join("receiver.pem"), dir.join("receiver.key"));
        if !cert.exists() {
            let made = Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                ])
                .args(["-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
                .arg(&key)
                .arg("-out")
                .arg(&cert)
                .output()
                .expect("openssl");
            assert!(made.status.success(), "{}", text(&made));
        }
        let port = free_tcp_port();
        let events = dir.join(format!("events-{port}.jsonl"));
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/clients/event_receiver.py"))
            .arg(port.to_string())
            .args([&cert, &key, &events])
            .arg(status.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut ready)
            .expect("receiver output");
        assert_eq!(ready.trim(), "listening");
        Self {
            child,
            port,
            events,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/events", self.port)
    }

    /// The events received so far.
    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An SSE stream read by curl, its events handed over as they come.
struct Stream {
    child: Child,
    events: mpsc::Receiver<Value>,
}

impl Stream {
    fn open(suite: &Suite, filter: &str) -> Self {
        let url = format!(
            "https://127.0.0.1:{}/redfish/v1/EventService/SSE?$filter={filter}",
            suite.redfish_port
        );
        let mut child = Command::new("curl")
            .args(["-skN", "-g", "-u", &format!("{USER}:{PASSWORD}"), &url])
            .stdout(Stdio::piped())
            .spawn()
            .expect("curl");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, events) = mpsc::channel();
        let (opened, open) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with(": stream open") {
                    let _ = opened.send(());
                }
                if let Some(data) = line.strip_prefix("data: ") {
                    if let Ok(event) = serde_json::from_str(data) {
                        let _ = sender.send(event);
                    }
                }
            }
        });
        open.recv_timeout(Duration::from_secs(10))
            .expect("the SSE stream did not open");
        Self { child, events }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn message_ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["Events"][0]["MessageId"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_fault_reaches_sse_and_a_kept_push_subscription() {
    let suite = Suite::start();
    let receiver = Receiver::start(&suite.state_dir, 200);
    let created = redfish(
        &suite,
        &[
            "post",
            SUBSCRIPTIONS,
            &format!(
                r#"{{"Destination": "{}", "Protocol": "Redfish", "Context": "e2e", "RegistryPrefixes": ["SensorEvent"], "VerifyCertificate": false}}"#,
                receiver.url()
            ),
        ],
    );
    assert_eq!(created["status"], 201, "{created}");
    let id = created["body"]["Id"].as_str().expect("Id").to_owned();
    // Only sensor events on the stream: the subscription's own creation
    // (a ResourceEvent) is filtered out.
    let stream = Stream::open(&suite, "RegistryPrefix%20eq%20%27SensorEvent%27");

    let injected = Instant::now();
    suite.simulator("Inject", "ss", &["CPU0 Temp", "runaway"]);
    let event = stream
        .events
        .recv_timeout(Duration::from_secs(2))
        .unwrap_or_else(|_| panic!("no SSE event within 2 s of the fault"));
    let latency = injected.elapsed();
    let record = &event["Events"][0];
    let message_id = record["MessageId"].as_str().unwrap_or_default();
    assert!(
        message_id.starts_with("SensorEvent.1.0.ReadingAbove"),
        "{event}"
    );
    assert_eq!(
        record["OriginOfCondition"]["@odata.id"],
        "/redfish/v1/Chassis/chassis/Sensors/temperature_CPU0_Temp",
        "{event}"
    );
    assert!(
        record["Message"]
            .as_str()
            .unwrap_or_default()
            .contains("CPU0 Temp"),
        "{event}"
    );
    eprintln!("SSE event {message_id} {latency:?} after the fault");

    // The push subscription gets the same event, with its Context.
    wait_for("the pushed event", Duration::from_secs(5), || {
        let received = receiver.received();
        rbmc_e2e::done_or(
            received
                .iter()
                .any(|e| e["Events"][0]["EventId"] == record["EventId"]),
            format!("{received:?}"),
        )
    });
    let pushed = receiver.received();
    assert!(pushed.iter().all(|e| e["Context"] == "e2e"), "{pushed:?}");
    assert!(
        message_ids(&pushed)
            .iter()
            .all(|m| m.starts_with("SensorEvent.")),
        "the registry filter let through: {pushed:?}"
    );
    drop(stream);

    // Restart rbmc-redfishd: the subscription is still there, and delivers.
    let before = suite.pid_of("rbmc-redfishd");
    suite.signal("rbmc-redfishd", Signal::SIGKILL);
    wait_for("rbmc-redfishd restarted", Duration::from_secs(20), || {
        let pid = suite.try_pid_of("rbmc-redfishd");
        let answers = pid.is_some_and(|p| p != before)
            && std::net::TcpStream::connect(("127.0.0.1", suite.redfish_port)).is_ok();
        rbmc_e2e::done_or(answers, format!("{pid:?}"))
    });
    let kept = redfish(&suite, &["get", &format!("{SUBSCRIPTIONS}/{id}")]);
    assert_eq!(kept["status"], 200, "{kept}");
    assert_eq!(kept["body"]["Destination"], receiver.url(), "{kept}");
    let delivered = receiver.received().len();
    suite.simulator("Clear", "s", &["CPU0 Temp"]);
    wait_for(
        "an event delivered after the restart",
        Duration::from_secs(10),
        || {
            let received = receiver.received();
            rbmc_e2e::done_or(received.len() > delivered, format!("{received:?}"))
        },
    );
}

#[test]
fn a_subscriber_that_keeps_failing_is_retried_then_dropped() {
    let suite = Suite::start();
    let failing = Receiver::start(&suite.state_dir, 500);
    let settings = redfish(
        &suite,
        &[
            "patch",
            "/redfish/v1/EventService",
            r#"{"DeliveryRetryAttempts": 2, "DeliveryRetryIntervalSeconds": 1}"#,
        ],
    );
    assert_eq!(settings["status"], 200, "{settings}");
    let created = redfish(
        &suite,
        &[
            "post",
            SUBSCRIPTIONS,
            &format!(
                r#"{{"Destination": "{}", "Protocol": "Redfish", "VerifyCertificate": false}}"#,
                failing.url()
            ),
        ],
    );
    assert_eq!(created["status"], 201, "{created}");
    let id = created["body"]["Id"].as_str().expect("Id").to_owned();
    let test_event = redfish(
        &suite,
        &[
            "post",
            "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent",
            "{}",
        ],
    );
    assert_eq!(test_event["status"], 204, "{test_event}");
    // The first try and two retries, a second apart; then it is dropped.
    wait_for("three attempts", Duration::from_secs(10), || {
        let received = failing.received();
        rbmc_e2e::done_or(received.len() >= 3, format!("{received:?}"))
    });
    wait_for("the subscription dropped", Duration::from_secs(5), || {
        let gone = redfish(&suite, &["get", &format!("{SUBSCRIPTIONS}/{id}")]);
        rbmc_e2e::done_or(gone["status"] == 404, gone.to_string())
    });
    assert_eq!(
        failing.received().len(),
        3,
        "no attempt after the last retry"
    );
    assert!(
        suite.log_text().contains("delivery retries ran out"),
        "the drop is not logged"
    );
    // The service carries on.
    let root = redfish(&suite, &["get", "/redfish/v1/EventService"]);
    assert_eq!(root["status"], 200, "{root}");
}
