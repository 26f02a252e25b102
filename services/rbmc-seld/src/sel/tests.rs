//! Tests of the SEL task and its commands.
use super::*;

fn dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rbmc-selcmd-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open(dir: &Path, capacity: u16, policy: SelFullPolicy) -> SelState {
    SelState::open(
        dir,
        &rbmc_config::Sel {
            capacity,
            full_policy: policy,
        },
    )
    .unwrap()
}

fn sel(tag: &str, capacity: u16, policy: SelFullPolicy) -> SelState {
    open(&dir(tag), capacity, policy)
}

const EVENT: [u8; 16] = [0, 0, 2, 0, 0, 0, 0, 0x20, 0, 4, 1, 1, 1, 0x57, 0x5F, 0x5A];

#[tokio::test]
async fn add_get_delete_clear() {
    let mut s = sel("basic", 10, SelFullPolicy::Stop);
    assert_eq!(s.cmd_add_entry(&EVENT).await.unwrap(), [1, 0]);
    assert_eq!(s.cmd_add_entry(&EVENT).await.unwrap(), [2, 0]);
    let first = s.cmd_get_entry(&[0, 0, 0, 0, 0, 0xFF]).unwrap();
    assert_eq!(first[..2], [2, 0], "next ID");
    assert_eq!(first[2..4], [1, 0], "record ID");
    assert_ne!(first[5..9], [0, 0, 0, 0], "timestamped");
    let last = s.cmd_get_entry(&[0, 0, 0xFF, 0xFF, 0, 0xFF]).unwrap();
    assert_eq!(last[..4], [0xFF, 0xFF, 2, 0]);
    // Deleting needs a reservation.
    assert_eq!(
        s.cmd_delete_entry(&[0, 0, 1, 0]).await,
        Err(CompletionCode::RESERVATION_CANCELLED)
    );
    let r = s.cmd_reserve(&[]).unwrap();
    assert_eq!(
        s.cmd_delete_entry(&[r[0], r[1], 1, 0]).await.unwrap(),
        [1, 0]
    );
    assert_eq!(
        s.cmd_get_entry(&[0, 0, 1, 0, 0, 0xFF]),
        Err(CompletionCode::NOT_PRESENT)
    );
    let r = s.cmd_reserve(&[]).unwrap();
    assert_eq!(
        s.cmd_clear(&[r[0], r[1], b'C', b'L', b'R', 0xAA])
            .await
            .unwrap(),
        [1]
    );
    let info = s.cmd_info(&[]).unwrap();
    assert_eq!(info[1..3], [0, 0]);
    assert_ne!(info[9..13], [0, 0, 0, 0], "erase time");
    assert_eq!(
        s.cmd_add_entry(&EVENT).await.unwrap(),
        [3, 0],
        "IDs keep counting"
    );
}

#[tokio::test]
async fn full_sel_stops_or_wraps() {
    let mut stop = sel("stop", 2, SelFullPolicy::Stop);
    stop.cmd_add_entry(&EVENT).await.unwrap();
    stop.cmd_add_entry(&EVENT).await.unwrap();
    assert_eq!(
        stop.cmd_add_entry(&EVENT).await,
        Err(CompletionCode::OUT_OF_SPACE)
    );
    assert_eq!(stop.cmd_info(&[]).unwrap()[13] & 0x80, 0x80, "overflow");
    let mut wrap = sel("wrap", 2, SelFullPolicy::Wrap);
    for _ in 0..3 {
        wrap.cmd_add_entry(&EVENT).await.unwrap();
    }
    let ids: Vec<u16> = wrap.records().map(|(id, _)| *id).collect();
    assert_eq!(ids, [2, 3]);
}

#[tokio::test]
async fn set_time_moves_only_the_sel_clock() {
    let mut s = sel("time", 10, SelFullPolicy::Stop);
    s.cmd_set_time(&1_000_000u32.to_le_bytes()).await.unwrap();
    let now = u32::from_le_bytes(s.cmd_get_time(&[]).unwrap().try_into().unwrap());
    assert!((1_000_000..1_000_005).contains(&now), "{now}");
    assert_eq!(s.cmd_get_utc_offset(&[]).unwrap(), [0xFF, 0x07]);
    s.cmd_set_utc_offset(&(-300i16).to_le_bytes())
        .await
        .unwrap();
    assert_eq!(s.cmd_get_utc_offset(&[]).unwrap(), (-300i16).to_le_bytes());
    assert_eq!(
        s.cmd_set_utc_offset(&2000i16.to_le_bytes()).await,
        Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
    );
}

#[tokio::test]
async fn a_failed_write_is_refused_and_changes_nothing() {
    let dir = dir("refused");
    let mut s = open(&dir, 10, SelFullPolicy::Stop);
    s.cmd_add_entry(&EVENT).await.unwrap();
    s.cmd_set_utc_offset(&60i16.to_le_bytes()).await.unwrap();
    let journal = std::fs::read(dir.join("sel.journal")).unwrap();
    let settings = std::fs::read(dir.join("sel-settings.toml")).unwrap();
    let info = s.cmd_info(&[]).unwrap();

    // A full disk under the journal: C4h, and the SEL is as it was.
    if let Some(file) = s.file.as_mut() {
        file.redirect_writes(Path::new("/dev/full")).unwrap();
    }
    assert_eq!(
        s.cmd_add_entry(&EVENT).await,
        Err(CompletionCode::OUT_OF_SPACE)
    );
    assert_eq!(s.cmd_info(&[]).unwrap(), info, "memory unchanged");
    let r = s.cmd_reserve(&[]).unwrap();
    assert_eq!(
        s.cmd_clear(&[r[0], r[1], b'C', b'L', b'R', 0xAA]).await,
        Err(CompletionCode::UNSPECIFIED),
        "the journal refuses changes until a restart recovers it"
    );
    assert_eq!(s.records().count(), 1);

    // Settings that cannot be written (a directory where the temporary
    // file goes): FFh, and the offset in force stays.
    std::fs::create_dir_all(dir.join("sel-settings.tmp")).unwrap();
    assert_eq!(
        s.cmd_set_utc_offset(&120i16.to_le_bytes()).await,
        Err(CompletionCode::UNSPECIFIED)
    );
    assert_eq!(s.cmd_get_utc_offset(&[]).unwrap(), 60i16.to_le_bytes());
    assert_eq!(
        s.cmd_set_time(&1_000_000u32.to_le_bytes()).await,
        Err(CompletionCode::UNSPECIFIED)
    );
    assert!(s.now() > 1_000_005, "the SEL clock did not move");

    // Disk as it was: a restart finds the acknowledged state.
    assert_eq!(std::fs::read(dir.join("sel.journal")).unwrap(), journal);
    assert_eq!(
        std::fs::read(dir.join("sel-settings.toml")).unwrap(),
        settings
    );
    drop(s);
    let again = open(&dir, 10, SelFullPolicy::Stop);
    assert_eq!(again.records().count(), 1);
    assert_eq!(again.cmd_get_utc_offset(&[]).unwrap(), 60i16.to_le_bytes());
}

#[tokio::test]
async fn the_task_answers_through_the_handle() {
    let sel = Sel::spawn(sel("task", 10, SelFullPolicy::Stop));
    let request = |netfn, cmd, data: &[u8]| IpmiRequest {
        netfn,
        lun: 0,
        cmd,
        data: data.to_vec(),
        context: ipmi_router::Context {
            channel: 1,
            privilege: Privilege::Operator,
            user_id: 2,
            session_id: 1,
        },
    };
    assert_eq!(
        sel.execute(request(NetFn::STORAGE, CMD_ADD_SEL_ENTRY, &EVENT))
            .await,
        Ok(vec![1, 0])
    );
    assert_eq!(sel.add(EVENT).await, Ok(2));
    assert_eq!(
        sel.execute(request(
            NetFn::SENSOR_EVENT,
            CMD_PLATFORM_EVENT,
            &[0x41, 0x04, 0x01, 0x05, 0x01, 0x57, 0x30, 0x28]
        ))
        .await,
        Ok(vec![])
    );
    let records = sel.records().await;
    assert_eq!(records.len(), 3);
    assert_eq!(records[2][7], 0x41, "generator: the software ID");
    assert_eq!(
        sel.execute(request(NetFn::STORAGE, 0x45, &[])).await,
        Err(CompletionCode::INVALID_COMMAND)
    );
}
