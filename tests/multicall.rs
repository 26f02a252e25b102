//! The `rbmc` multi-call binary runs the daemon it is called as: by a link's
//! name (how the image installs it) or by its first argument.

use std::process::Command;

use rbmc_e2e::{bin_dir, repo_root, text};

#[test]
fn runs_the_daemon_named_by_its_link_or_first_argument() {
    let rbmc = bin_dir().join("rbmc");
    let links = std::env::temp_dir().join(format!("rbmc-multicall-{}", std::process::id()));
    std::fs::create_dir_all(&links).unwrap();
    for (daemon, about) in [
        ("rbmc-sensord", "sensor, SDR, FRU"),
        ("rbmc-powerd", "power/GPIO controller"),
        ("rbmc-seld", "SEL logger"),
        ("rbmc-userd", "accounts owner"),
        ("rbmc-pefd", "PEF and alert owner"),
        ("rbmc-fand", "fan control"),
        ("rbmc-netipmid", "RMCP+ network bridge"),
        ("rbmc-kcsd", "KCS host interface"),
    ] {
        let link = links.join(daemon);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&rbmc, &link).unwrap();
        let out = Command::new(&link).arg("--help").output().unwrap();
        assert!(
            out.status.success() && text(&out).contains(about),
            "{daemon}: {}",
            text(&out)
        );
        let short = daemon.trim_start_matches("rbmc-");
        let out = Command::new(&rbmc)
            .args([short, "--help"])
            .output()
            .unwrap();
        assert!(text(&out).contains(about), "rbmc {short}: {}", text(&out));
    }
    // Called as a link, it really runs the daemon: a bad config is the
    // daemon's configuration error (78), named.
    let bad = links.join("bad.toml");
    std::fs::write(&bad, "[network]\ncipher-suites = [0]\n").unwrap();
    let out = Command::new(links.join("rbmc-seld"))
        .arg("--config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("cipher suite 0"), "{}", text(&out));
    let out = Command::new(&rbmc).arg("nonsense").output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(repo_root().join("docs/SIZE.md").exists());
    let _ = std::fs::remove_dir_all(links);
}
