//! The journal: durable appends, unfinished operations, torn last lines, corruption, compaction.

use std::fs::{self, OpenOptions};
use std::io::Write;

use tunnelform_kinds::ResourceKind;
use tunnelform_model::Address;
use tunnelform_state::{
    journal_path, Intent, Journal, JournalAction, JournalError, OpId, OpResult, Outcome, Record,
    Sent, Timestamp,
};

fn intent(name: &str, action: JournalAction) -> Intent {
    Intent::new(
        Address::managed("tencentcloud_vpn_connection", name),
        action,
        ResourceKind::VpnConnection,
        "ap-guangzhou",
    )
}

fn sent(op: &OpId, resource_id: Option<&str>, task_id: Option<&str>) -> Record {
    Record::Sent(Sent {
        op_id: op.clone(),
        request_id: format!("req-{}", &op.0[..8]),
        resource_id: resource_id.map(str::to_string),
        task_id: task_id.map(str::to_string),
        at: Timestamp::now(),
    })
}

fn outcome(op: &OpId, result: OpResult) -> Record {
    Record::Outcome(Outcome {
        op_id: op.clone(),
        result,
        at: Timestamp::now(),
    })
}

#[test]
fn unfinished_ops_survive_a_reopen_with_what_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let mut j = Journal::open(&state).unwrap();
    assert!(j.is_empty());
    assert!(
        !journal_path(&state).exists(),
        "nothing is created before the first append"
    );

    let done = intent("done", JournalAction::Create);
    let sent_only = intent("sent_only", JournalAction::ReplaceCreate);
    let intent_only = intent("intent_only", JournalAction::Delete);
    let failed = intent("failed", JournalAction::Update);
    j.append(&Record::Intent(done.clone())).unwrap();
    j.append(&Record::Intent(sent_only.clone())).unwrap();
    j.append(&sent(&done.op_id, Some("vpnx-done"), Some("1001")))
        .unwrap();
    j.append(&sent(&sent_only.op_id, None, None)).unwrap();
    j.append(&sent(&sent_only.op_id, Some("vpnx-new"), Some("1002")))
        .unwrap();
    j.append(&outcome(&done.op_id, OpResult::Ok)).unwrap();
    j.append(&Record::Intent(intent_only.clone())).unwrap();
    j.append(&Record::Intent(failed.clone())).unwrap();
    j.append(&outcome(
        &failed.op_id,
        OpResult::Failed {
            code: "UnsupportedOperation.VpnConnInvalidState".into(),
            message: "busy".into(),
        },
    ))
    .unwrap();
    drop(j);

    // Each append was durable on its own: a fresh reader sees them all.
    let j = Journal::open(&state).unwrap();
    assert!(j.warnings().is_empty());
    assert_eq!(j.records().len(), 9);
    let unfinished = j.unfinished();
    assert_eq!(unfinished.len(), 2);
    assert_eq!(unfinished[0].intent, sent_only);
    assert_eq!(unfinished[0].sent.len(), 2);
    assert_eq!(unfinished[0].resource_id(), Some("vpnx-new"));
    assert_eq!(unfinished[0].task_id(), Some("1002"));
    assert_eq!(unfinished[1].intent, intent_only);
    assert!(unfinished[1].sent.is_empty());
    assert_eq!(unfinished[1].resource_id(), None);

    let text = fs::read_to_string(journal_path(&state)).unwrap();
    let first = text.lines().next().unwrap();
    assert_eq!(first, r#"{"format":"tunnelform-journal","version":1}"#);
    assert!(text.contains(r#""record":"intent""#) && text.contains(r#""action":"replace-create""#));
    assert!(text.contains(r#""kind":"tencentcloud_vpn_connection""#));
    assert!(
        text.contains(r#""status":"failed","code":"UnsupportedOperation.VpnConnInvalidState""#),
        "{text}"
    );
}

#[test]
fn appends_out_of_sequence_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&dir.path().join("s.json")).unwrap();
    let i = intent("a", JournalAction::Create);
    let err = j.append(&sent(&i.op_id, None, None)).unwrap_err();
    assert!(matches!(err, JournalError::UnknownOp { .. }), "{err}");
    j.append(&Record::Intent(i.clone())).unwrap();
    assert!(matches!(
        j.append(&Record::Intent(i.clone())).unwrap_err(),
        JournalError::DuplicateIntent { .. }
    ));
    j.append(&outcome(&i.op_id, OpResult::Ok)).unwrap();
    assert!(matches!(
        j.append(&sent(&i.op_id, None, None)).unwrap_err(),
        JournalError::AlreadyFinished { .. }
    ));
    assert_eq!(j.records().len(), 2);
}

#[test]
fn a_torn_last_line_is_ignored_with_a_warning_and_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let mut j = Journal::open(&state).unwrap();
    let a = intent("a", JournalAction::Create);
    j.append(&Record::Intent(a.clone())).unwrap();
    j.append(&sent(&a.op_id, Some("vpnx-a"), Some("7")))
        .unwrap();
    drop(j);
    // A crash in the middle of the next append.
    let full = serde_json::to_string(&outcome(&a.op_id, OpResult::Ok)).unwrap();
    let mut f = OpenOptions::new()
        .append(true)
        .open(journal_path(&state))
        .unwrap();
    f.write_all(&full.as_bytes()[..full.len() / 2]).unwrap();
    drop(f);

    let mut j = Journal::open(&state).unwrap();
    assert_eq!(j.warnings().len(), 1);
    assert!(
        j.warnings()[0].contains("partial record"),
        "{:?}",
        j.warnings()
    );
    assert_eq!(j.records().len(), 2);
    assert_eq!(j.unfinished().len(), 1, "the torn outcome does not count");
    // The next append starts on a clean line.
    j.append(&outcome(&a.op_id, OpResult::Ok)).unwrap();
    drop(j);
    let j = Journal::open(&state).unwrap();
    assert!(j.warnings().is_empty());
    assert_eq!(j.records().len(), 3);
    assert!(j.unfinished().is_empty());
}

#[test]
fn a_complete_last_line_without_newline_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let mut j = Journal::open(&state).unwrap();
    let a = intent("a", JournalAction::Tag);
    j.append(&Record::Intent(a.clone())).unwrap();
    drop(j);
    let path = journal_path(&state);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.trim_end_matches('\n')).unwrap();
    let mut j = Journal::open(&state).unwrap();
    assert!(j.warnings().is_empty());
    assert_eq!(j.unfinished().len(), 1);
    j.append(&outcome(&a.op_id, OpResult::Ok)).unwrap();
    drop(j);
    assert_eq!(Journal::open(&state).unwrap().records().len(), 2);
}

#[test]
fn a_torn_header_counts_as_an_empty_journal() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    fs::write(journal_path(&state), br#"{"format":"tunnelf"#).unwrap();
    let mut j = Journal::open(&state).unwrap();
    assert_eq!(j.warnings().len(), 1);
    assert!(j.is_empty());
    j.append(&Record::Intent(intent("a", JournalAction::Create)))
        .unwrap();
    drop(j);
    assert_eq!(Journal::open(&state).unwrap().records().len(), 1);
}

#[test]
fn damage_before_the_last_line_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let mut j = Journal::open(&state).unwrap();
    let a = intent("a", JournalAction::Create);
    j.append(&Record::Intent(a.clone())).unwrap();
    j.append(&sent(&a.op_id, None, Some("1"))).unwrap();
    drop(j);
    let path = journal_path(&state);
    let original = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    lines[1] = lines[1].replacen("intent", "intnet", 1);
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = Journal::open(&state).unwrap_err();
    let JournalError::Corrupt { line, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*line, 2);
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("line 2"),
        "{msg}"
    );
    assert!(msg.contains("move it aside"), "{msg}");

    // Not a journal at all.
    fs::write(&path, "hello\nworld\n").unwrap();
    assert!(matches!(
        Journal::open(&state).unwrap_err(),
        JournalError::Corrupt { line: 1, .. }
    ));
    // Binary garbage on a complete line.
    fs::write(&path, b"\xff\xfe\n").unwrap();
    assert!(matches!(
        Journal::open(&state).unwrap_err(),
        JournalError::Corrupt { line: 1, .. }
    ));
    // A journal from a newer tunnelform.
    fs::write(&path, "{\"format\":\"tunnelform-journal\",\"version\":7}\n").unwrap();
    let err = Journal::open(&state).unwrap_err();
    assert!(
        matches!(err, JournalError::FutureVersion { found: 7, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade tunnelform"));
}

#[test]
fn compact_keeps_only_unfinished_ops_and_clear_empties() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let mut j = Journal::open(&state).unwrap();
    let done = intent("done", JournalAction::Create);
    let open = intent("open", JournalAction::ReplaceDelete);
    j.append(&Record::Intent(done.clone())).unwrap();
    j.append(&Record::Intent(open.clone())).unwrap();
    j.append(&sent(&open.op_id, Some("vpnx-o"), Some("9")))
        .unwrap();
    j.append(&outcome(&done.op_id, OpResult::Ok)).unwrap();
    j.compact().unwrap();
    assert_eq!(j.records().len(), 2);
    // Appends keep working on the rewritten file.
    j.append(&sent(&open.op_id, Some("vpnx-o"), Some("10")))
        .unwrap();
    drop(j);
    let mut j = Journal::open(&state).unwrap();
    assert_eq!(j.records().len(), 3);
    assert_eq!(j.unfinished()[0].task_id(), Some("10"));
    assert_eq!(j.unfinished()[0].intent, open);

    j.clear().unwrap();
    assert!(j.is_empty());
    j.append(&Record::Intent(intent("later", JournalAction::Create)))
        .unwrap();
    drop(j);
    let j = Journal::open(&state).unwrap();
    assert_eq!(j.records().len(), 1);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn orphan_records_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let op = OpId::new();
    let line = serde_json::to_string(&sent(&op, Some("vpnx-x"), None)).unwrap();
    fs::write(
        journal_path(&state),
        format!("{{\"format\":\"tunnelform-journal\",\"version\":1}}\n{line}\n"),
    )
    .unwrap();
    let j = Journal::open(&state).unwrap();
    assert_eq!(j.warnings().len(), 1);
    assert!(j.warnings()[0].contains(&op.0));
    assert!(j.unfinished().is_empty());
}

/// Found by the state_read fuzz target: a record written before its operation's intent is ignored
/// (with a warning) when the journal is opened; compaction drops it, so the compacted journal has the
/// same unfinished operations and no warning.
#[test]
fn compaction_drops_records_that_come_before_their_intent() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let op = intent("early", JournalAction::Create);
    let line = |r: &Record| serde_json::to_string(r).unwrap();
    fs::write(
        journal_path(&state),
        format!(
            "{{\"format\":\"tunnelform-journal\",\"version\":1}}\n{}\n{}\n{}\n",
            line(&sent(&op.op_id, Some("vpnx-early"), None)),
            line(&Record::Intent(op.clone())),
            line(&sent(&op.op_id, Some("vpnx-late"), Some("7"))),
        ),
    )
    .unwrap();
    let mut j = Journal::open(&state).unwrap();
    assert_eq!(j.warnings().len(), 1, "{:?}", j.warnings());
    let before = j.unfinished();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].resource_id(), Some("vpnx-late"));
    j.compact().unwrap();
    assert_eq!(j.records().len(), 2);
    drop(j);
    let j = Journal::open(&state).unwrap();
    assert!(j.warnings().is_empty(), "{:?}", j.warnings());
    assert_eq!(j.unfinished(), before);
}

#[test]
fn records_appended_together_are_all_written_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let mut j = Journal::open(&state).unwrap();
    let a = intent("a", JournalAction::Create);
    let b = intent("b", JournalAction::Create);
    // An operation's intent, sent and outcome may follow each other within one append.
    j.append_all(&[
        Record::Intent(a.clone()),
        Record::Intent(b.clone()),
        sent(&a.op_id, Some("vpnx-a"), None),
        outcome(&a.op_id, OpResult::Ok),
    ])
    .unwrap();
    let reopened = Journal::open(&state).unwrap();
    assert_eq!(reopened.records(), j.records());
    assert_eq!(reopened.records().len(), 4);
    let unfinished: Vec<OpId> = reopened
        .unfinished()
        .into_iter()
        .map(|u| u.intent.op_id)
        .collect();
    assert_eq!(unfinished, vec![b.op_id.clone()]);

    // One record out of sequence (after its operation's outcome): nothing of the append is written.
    let c = intent("c", JournalAction::Create);
    let len = fs::metadata(journal_path(&state)).unwrap().len();
    let err = j
        .append_all(&[
            Record::Intent(c.clone()),
            sent(&b.op_id, None, None),
            outcome(&c.op_id, OpResult::Ok),
            sent(&c.op_id, None, None),
        ])
        .unwrap_err();
    assert!(
        matches!(err, JournalError::AlreadyFinished { ref op_id } if *op_id == c.op_id),
        "{err:?}"
    );
    assert_eq!(fs::metadata(journal_path(&state)).unwrap().len(), len);
    assert_eq!(j.records().len(), 4);
    assert_eq!(Journal::open(&state).unwrap().records().len(), 4);
    // The same intent twice in one append is refused too.
    let d = intent("d", JournalAction::Create);
    let err = j
        .append_all(&[Record::Intent(d.clone()), Record::Intent(d.clone())])
        .unwrap_err();
    assert!(
        matches!(err, JournalError::DuplicateIntent { .. }),
        "{err:?}"
    );
    assert_eq!(Journal::open(&state).unwrap().records().len(), 4);
}
