//! `rbmc-bench redfish [REQUESTS]`: what a Redfish GET costs, beside a
//! peer in the same run.
//!
//! Starts the suite with 30 simulated sensors and measures, with 1 and 16
//! clients at once (each its own HTTPS connection, kept alive, with a
//! session token), REQUESTS GETs per client of:
//! - one sensor (`/redfish/v1/Chassis/chassis/Sensors/{id}`), and
//! - the Sensors collection with `$expand=.` (30 sensors whole).
//!
//! The peer is nginx serving the same two bodies, captured from rbmc at
//! the start, as static files over the same TLS (the same certificate,
//! TLS 1.3, HTTP/1.1, one worker process as redfishd has one thread): the
//! cost of the HTTPS and HTTP layers alone, so the difference is what
//! reading the owners live costs. It reports p50, p99 and requests per
//! second for each, and the resident memory of both servers idle.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{client::conn::http1, Request};
use hyper_util::rt::TokioIo;
use rbmc_e2e::{free_tcp_port, Suite, PASSWORD, USER};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

const SENSORS: &str = "/redfish/v1/Chassis/chassis/Sensors";

/// A TLS client that accepts the server's self-signed certificate (the
/// Redfish bridge's own, as a subscription with `VerifyCertificate: false`
/// has it): the benchmark measures speed, not trust, and both servers
/// present the same certificate.
fn tls() -> tokio_rustls::TlsConnector {
    rbmc_redfishd::tls::client(false)
}

/// One kept-alive HTTPS/1.1 connection.
struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
}

impl Connection {
    async fn open(port: u16) -> Self {
        let tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let name = ServerName::try_from("localhost").expect("name");
        let stream = tls().connect(name, tcp).await.expect("TLS handshake");
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
        tokio::spawn(connection);
        Self { sender }
    }

    /// Sends one request; its status, headers and body.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> (u16, hyper::HeaderMap, Bytes) {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("x-auth-token", token);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, body)
    }
}

/// Logs in; the session token.
async fn login(port: u16) -> String {
    let mut connection = Connection::open(port).await;
    let body = format!(r#"{{"UserName": "{USER}", "Password": "{PASSWORD}"}}"#);
    let (status, headers, _) = connection
        .send("POST", "/redfish/v1/SessionService/Sessions", None, &body)
        .await;
    assert_eq!(status, 201, "login");
    headers["x-auth-token"].to_str().expect("token").to_owned()
}

/// Latencies of `clients` connections each sending `requests` GETs of
/// `path` at once, and the wall time of the whole.
async fn measure(
    port: u16,
    token: Option<&str>,
    path: &str,
    clients: usize,
    requests: usize,
) -> (Vec<Duration>, Duration) {
    let mut connections = Vec::new();
    for _ in 0..clients {
        connections.push(Connection::open(port).await);
    }
    let started = Instant::now();
    let tasks: Vec<_> = connections
        .into_iter()
        .map(|mut connection| {
            let (token, path) = (token.map(str::to_owned), path.to_owned());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(requests);
                for _ in 0..requests {
                    let sent = Instant::now();
                    let (status, _, _) = connection.send("GET", &path, token.as_deref(), "").await;
                    assert_eq!(status, 200, "GET {path}");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client"));
    }
    (all, started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

/// A `Key: N kB` figure of a `/proc/<pid>/` file, KiB.
fn proc_kib(pid: u32, file: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resident memory of `pid`, KiB.
fn rss_kib(pid: u32) -> u64 {
    proc_kib(pid, "status", "VmRSS:")
}

/// Memory of `pid`, KiB: resident, its own (anonymous), and its
/// proportional share (PSS: pages shared with other processes, such as
/// the executable's, divided among them).
fn memory(pid: u32) -> (u64, u64, u64) {
    (
        rss_kib(pid),
        proc_kib(pid, "status", "RssAnon:"),
        proc_kib(pid, "smaps_rollup", "Pss:"),
    )
}

/// nginx serving `root` over TLS with `certificate`/`key` on `port`.
fn start_nginx(dir: &Path, certificate: &Path, key: &Path, port: u16) -> Child {
    let conf = format!(
        "daemon off;\nmaster_process on;\nworker_processes 1;\nerror_log stderr warn;\n\
         pid {dir}/nginx.pid;\nevents {{ worker_connections 256; }}\n\
         http {{\n access_log off;\n client_body_temp_path {dir}/tmp;\n proxy_temp_path {dir}/tmp;\n\
         fastcgi_temp_path {dir}/tmp;\n uwsgi_temp_path {dir}/tmp;\n scgi_temp_path {dir}/tmp;\n\
         keepalive_requests 1000000;\n\
         server {{\n  listen 127.0.0.1:{port} ssl;\n  ssl_certificate {cert};\n  ssl_certificate_key {key};\n\
         ssl_protocols TLSv1.2 TLSv1.3;\n  location / {{ root {dir}/www; default_type application/json; }}\n }}\n}}\n",
        dir = dir.display(),
        cert = certificate.display(),
        key = key.display(),
    );
    std::fs::create_dir_all(dir.join("tmp")).expect("nginx tmp");
    std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
    Command::new("nginx")
        .args(["-p", &dir.display().to_string(), "-c"])
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx: the benchmark's peer (apt-get install nginx-light)")
}

/// The config: the dev config's identity, with 30 simulated sensors.
fn config() -> String {
    crate::sensors::config(30)
}

/// Runs the benchmark and prints Markdown tables.
pub fn run_bench(requests: usize) {
    let path = std::env::temp_dir().join(format!("rbmc-bench-redfish-{}.toml", std::process::id()));
    std::fs::write(&path, config()).expect("write config");
    let suite = Suite::start_with(&["--config", path.to_str().expect("utf-8 path")]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let port = suite.redfish_port;
    let token = runtime.block_on(login(port));
    // Idle before any load: started, one login, left alone for 5 s.
    std::thread::sleep(Duration::from_secs(5));
    let redfishd = u32::try_from(suite.pid_of("rbmc-redfishd")).expect("pid");
    let fresh = memory(redfishd);
    // Capture the two bodies for the peer.
    let peer_dir = suite.state_dir.join("peer");
    std::fs::create_dir_all(peer_dir.join("www")).expect("peer dir");
    let expanded_path = format!("{SENSORS}?$expand=.");
    let (sensor_path, bodies) = runtime.block_on(async {
        let mut connection = Connection::open(port).await;
        let (_, _, collection) = connection.send("GET", SENSORS, Some(&token), "").await;
        let collection: serde_json::Value = serde_json::from_slice(&collection).expect("JSON");
        let members = collection["Members"].as_array().expect("Members");
        assert_eq!(members.len(), 30, "the bench config's 30 sensors");
        let sensor_path = members[0]["@odata.id"].as_str().expect("id").to_owned();
        let (_, _, one) = connection.send("GET", &sensor_path, Some(&token), "").await;
        let (_, _, all) = connection
            .send("GET", &expanded_path, Some(&token), "")
            .await;
        (sensor_path, [one, all])
    });
    std::fs::write(peer_dir.join("www/sensor.json"), &bodies[0]).expect("peer body");
    std::fs::write(peer_dir.join("www/sensors-expanded.json"), &bodies[1]).expect("peer body");
    let permissions = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    let _ = std::fs::set_permissions(&suite.state_dir, permissions);
    let peer_port = free_tcp_port();
    let mut nginx = start_nginx(
        &peer_dir,
        &suite
            .state_dir
            .join("rbmc-redfishd/redfish-certificate.pem"),
        &suite.state_dir.join("rbmc-redfishd/redfish-key.pem"),
        peer_port,
    );
    rbmc_e2e::wait_for("nginx to answer", Duration::from_secs(10), || {
        rbmc_e2e::done_or(
            std::net::TcpStream::connect(("127.0.0.1", peer_port)).is_ok(),
            "not listening",
        )
    });
    println!(
        "rbmc-bench redfish: 30 sensors, {requests} GETs per client, HTTPS/1.1 kept alive, a session token"
    );
    println!();
    println!("| request | clients | server | p50 | p99 | requests/s | body |");
    println!("|---|---|---|---|---|---|---|");
    for (name, rbmc_path, peer_path, body) in [
        (
            "one sensor",
            sensor_path.as_str(),
            "/sensor.json",
            &bodies[0],
        ),
        (
            "Sensors `$expand=.` (30)",
            expanded_path.as_str(),
            "/sensors-expanded.json",
            &bodies[1],
        ),
    ] {
        for clients in [1, 16] {
            for (server, port, path, token) in [
                ("rbmc-redfishd", port, rbmc_path, Some(token.as_str())),
                ("nginx (static copy)", peer_port, peer_path, None),
            ] {
                // A round to warm both up, then the measured one.
                runtime.block_on(measure(port, token, path, clients, requests / 10 + 1));
                let (mut latencies, wall) =
                    runtime.block_on(measure(port, token, path, clients, requests));
                latencies.sort();
                #[allow(clippy::cast_precision_loss)]
                let rate = latencies.len() as f64 / wall.as_secs_f64();
                println!(
                    "| {name} | {clients} | {server} | {:.2} ms | {:.2} ms | {rate:.0} | {} B |",
                    percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
                    percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
                    body.len()
                );
            }
        }
    }
    // Idle memory: after the load, both servers left alone for 5 s.
    std::thread::sleep(Duration::from_secs(5));
    let nginx_pids: Vec<u32> = std::fs::read_to_string(peer_dir.join("nginx.pid"))
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .into_iter()
        .chain(child_pids(nginx.id()))
        .collect();
    let nginx_rss: u64 = nginx_pids.iter().map(|pid| rss_kib(*pid)).sum();
    println!();
    println!("| server | idle | resident (RSS) | of which its own (anonymous) | proportional share (PSS) |");
    println!("|---|---|---|---|---|");
    #[allow(clippy::cast_precision_loss)]
    let mib = |kib: u64| kib as f64 / 1024.0;
    let after = memory(redfishd);
    for (when, (rss, anon, pss)) in [("before the load", fresh), ("after it", after)] {
        println!(
            "| rbmc-redfishd | {when} | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
            mib(rss),
            mib(anon),
            mib(pss)
        );
    }
    println!(
        "| nginx, master and worker | after the load | {:.1} MiB | | |",
        mib(nginx_rss)
    );
    // SIGTERM, so the master stops its worker too.
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(nginx.id()).expect("pid")),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = nginx.wait();
    let _ = std::fs::remove_file(&path);
}

/// The children of `pid` (nginx's worker).
fn child_pids(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}
