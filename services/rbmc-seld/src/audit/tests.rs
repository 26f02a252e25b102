//! Tests of the audit task through its handle.
use std::path::PathBuf;

use super::*;

fn dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbmc-audit-task-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open(dir: &Path, capacity: usize) -> AuditState {
    AuditState::open(dir, capacity, Path::new("/nonexistent/journal/socket")).unwrap()
}

fn login(user: &str) -> Fields {
    Fields {
        source: "rmcp+".into(),
        user: user.into(),
        address: "192.0.2.7".into(),
        channel: 1,
        action: "login".into(),
        result: "ok".into(),
    }
}

fn users(state: &AuditState) -> Vec<(u64, String)> {
    state
        .records()
        .map(|r| (r.sequence, r.fields.user.clone()))
        .collect()
}

#[tokio::test]
async fn acknowledged_records_are_exported_and_survive_a_restart() {
    let dir = dir("restart");
    let audit = Audit::spawn(open(&dir, 100));
    assert_eq!(audit.record(login("alice")).await, Ok(1));
    assert_eq!(audit.record(login("bob")).await, Ok(2));
    let export = audit.export_json_lines().await.unwrap();
    let lines: Vec<&str> = export.lines().collect();
    assert_eq!(lines.len(), 2, "{export}");
    assert!(
        lines[0].starts_with("{\"sequence\":1,\"time\":\"20"),
        "{export}"
    );
    assert!(lines[1].contains("\"user\":\"bob\""), "{export}");
    drop(audit);
    let reopened = open(&dir, 100);
    assert_eq!(
        users(&reopened),
        [(1, "alice".to_owned()), (2, "bob".to_owned())]
    );
    assert_eq!(Audit::spawn(reopened).record(login("carol")).await, Ok(3));
}

#[tokio::test]
async fn bad_fields_are_invalid_arguments_and_store_nothing() {
    let dir = dir("invalid");
    let audit = Audit::spawn(open(&dir, 100));
    let mut long = login("x");
    long.result = "r".repeat(257);
    let mut forged = login("x");
    forged.action = "login\n{\"sequence\":99}".into();
    for fields in [long, forged] {
        assert!(
            matches!(
                audit.record(fields).await,
                Err(CommonError::InvalidArgument(_))
            ),
            "accepted"
        );
    }
    assert_eq!(audit.export_json_lines().await.unwrap(), "");
    assert_eq!(audit.record(login("ok")).await, Ok(1));
}

#[tokio::test]
async fn a_failed_write_is_an_internal_failure_and_changes_nothing() {
    let dir = dir("full");
    let mut state = open(&dir, 100);
    let audit_path = dir.join(FILE_NAME);
    state
        .file
        .as_mut()
        .unwrap()
        .redirect_writes(Path::new("/dev/full"))
        .unwrap();
    let audit = Audit::spawn(state);
    let refused = audit.record(login("alice")).await;
    assert!(
        matches!(&refused, Err(CommonError::InternalFailure(m)) if m.contains("could not be stored")),
        "{refused:?}"
    );
    assert_eq!(audit.export_json_lines().await.unwrap(), "");
    assert_eq!(std::fs::metadata(&audit_path).unwrap().len(), 0);
}

#[tokio::test]
async fn concurrent_records_all_land_with_distinct_numbers() {
    let dir = dir("concurrent");
    let audit = Audit::spawn(open(&dir, 1000));
    let calls: Vec<_> = (0..100)
        .map(|n| {
            let audit = audit.clone();
            tokio::spawn(async move { audit.record(login(&format!("u{n}"))).await })
        })
        .collect();
    let mut sequences = Vec::new();
    for call in calls {
        sequences.push(call.await.unwrap().unwrap());
    }
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=100).collect::<Vec<_>>());
    drop(audit);
    assert_eq!(open(&dir, 1000).records().count(), 100);
}

#[tokio::test]
async fn a_full_trail_keeps_the_newest_and_numbers_go_on() {
    let dir = dir("capacity");
    let audit = Audit::spawn(open(&dir, 3));
    for n in 1..=10 {
        assert_eq!(audit.record(login(&format!("u{n}"))).await, Ok(n));
    }
    let export = audit.export_json_lines().await.unwrap();
    let sequences: Vec<&str> = export
        .lines()
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        sequences,
        ["{\"sequence\":8", "{\"sequence\":9", "{\"sequence\":10"]
    );
    drop(audit);
    // Compaction bounded the file: the capacity plus at most a quarter.
    let bytes = std::fs::read(dir.join(FILE_NAME)).unwrap();
    let (_, recovery) = Journal::recover(&bytes, 3);
    assert!(recovery.records <= 4, "{recovery:?}");
    let reopened = open(&dir, 3);
    assert_eq!(
        reopened.records().map(|r| r.sequence).collect::<Vec<_>>(),
        [8, 9, 10]
    );
    assert_eq!(Audit::spawn(reopened).record(login("after")).await, Ok(11));
}

#[tokio::test]
async fn records_queued_during_a_write_share_the_next_one() {
    let dir = dir("batch");
    let state = open(&dir, 100);
    let (commands, inbox) = mpsc::channel(QUEUE);
    let mut answers = Vec::new();
    // Ten records wait in the queue, as if they arrived during an fsync.
    for n in 0..10 {
        let (reply, answer) = oneshot::channel();
        commands
            .send(Command::Record(login(&format!("u{n}")), reply))
            .await
            .unwrap();
        answers.push(answer);
    }
    drop(commands);
    let state = state.serve(inbox).await;
    assert_eq!(state.writes, 1, "one append and fsync for all ten");
    for (n, answer) in (1..).zip(answers) {
        assert_eq!(answer.await.unwrap(), Ok(n));
    }
    assert_eq!(open(&dir, 100).records().count(), 10);
}
