//! The state envelope and its file: round trips, determinism, atomic saves with backups, every
//! unreadable-file error, and no secret in any written byte.

use std::fs;
use std::path::Path;
use tunnelform_model::Map;

use rand::{Rng, SeedableRng};
use tunnelform_kinds::ResourceKind;
use tunnelform_model::{Address, InstanceKey, Value};
use tunnelform_state::{
    as_digest_marker, Cloud, OutputState, ParseError, ResourceState, State, StateError, StateFile,
    WriteError, STATE_FORMAT_VERSION,
};

const PSK_SH: &str = "PSK-shanghai-9f8e7d6c5b4a-long-and-random";
const PSK_BJ: &str = "PSK-beijing-0a1b2c3d4e5f-also-long";
const SECRET_OUTPUT: &str = "output-secret-77c1d2e3";

fn map(entries: &[(&str, Value)]) -> Map {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

/// A state with a gateway, a customer gateway and two tunnels whose keys are known secrets (one
/// marked sensitive, one not marked but sensitive by schema), and a sensitive output.
fn sample_state() -> State {
    let mut s = State::new();
    let mut gw = ResourceState::new(ResourceKind::VpnGateway, "ap-guangzhou", "vpngw-8ccsnclt");
    gw.set_attributes(map(&[
        ("name", "main".into()),
        ("bandwidth", Value::int(10)),
        ("vpc_id", "vpc-1".into()),
        ("tags", Value::Map(map(&[("team", "netops".into())]))),
        ("public_ip_address", "203.0.113.10".into()),
    ]))
    .unwrap();
    gw.ownership_tags = true;
    s.resources
        .insert(addr("tencentcloud_vpn_gateway.main"), gw);

    let mut cgw = ResourceState::new(ResourceKind::CustomerGateway, "ap-guangzhou", "cgw-1");
    cgw.set_attributes(map(&[
        ("name", "site".into()),
        ("public_ip_address", "203.0.113.101".into()),
    ]))
    .unwrap();
    s.resources
        .insert(addr("tencentcloud_vpn_customer_gateway.site[\"sh\"]"), cgw);

    for (key, psk, marked) in [("sh", PSK_SH, true), ("bj", PSK_BJ, false)] {
        let mut c = ResourceState::new(
            ResourceKind::VpnConnection,
            "ap-guangzhou",
            format!("vpnx-{key}"),
        );
        let psk_value = if marked {
            Value::sensitive(psk.into())
        } else {
            psk.into()
        };
        c.set_attributes(map(&[
            ("name", format!("tunnel-{key}").as_str().into()),
            ("pre_share_key", psk_value),
            (
                "security_group_policy",
                Value::List(vec![Value::Map(map(&[
                    ("local_cidr_block", "10.0.0.0/16".into()),
                    (
                        "remote_cidr_block",
                        Value::List(vec!["192.168.1.0/24".into()]),
                    ),
                ]))]),
            ),
            ("dpd_timeout", Value::int(30)),
        ]))
        .unwrap();
        c.dependencies = [
            addr("tencentcloud_vpn_gateway.main"),
            addr("tencentcloud_vpn_customer_gateway.site[\"sh\"]"),
        ]
        .into();
        s.resources.insert(
            Address::managed("tencentcloud_vpn_connection", "office")
                .with_key(Some(InstanceKey::Key(key.into()))),
            c,
        );
    }
    s.outputs.insert(
        "gateway_ip".into(),
        OutputState::new(&"203.0.113.10".into(), false, None),
    );
    s.outputs.insert(
        "admin_token".into(),
        OutputState::new(&SECRET_OUTPUT.into(), true, None),
    );
    s
}

fn assert_no_secret_in_dir(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_no_secret_in_dir(&path);
            continue;
        }
        let bytes = fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in [PSK_SH, PSK_BJ, SECRET_OUTPUT] {
            assert!(
                !text.contains(secret),
                "{} contains a secret in clear",
                path.display()
            );
        }
    }
}

#[test]
fn round_trip_is_exact_and_bytes_are_deterministic() {
    let s = sample_state();
    let bytes = s.to_json_bytes().unwrap();
    let back = State::from_json_bytes(&bytes).unwrap();
    assert_eq!(back, s);
    assert_eq!(
        back.to_json_bytes().unwrap(),
        bytes,
        "same state must give byte-identical output"
    );
    assert_eq!(s.clone().to_json_bytes().unwrap(), bytes);
    assert!(bytes.ends_with(b"}\n"));
}

#[test]
fn keys_are_sorted_everywhere() {
    let bytes = sample_state().to_json_bytes().unwrap();
    // Re-serialise through a sorted map (serde_json's own Value preserves order in this workspace,
    // so sort explicitly) and compare: the file must already be canonical.
    fn sorted(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(o) => {
                let mut keys: Vec<_> = o.keys().collect();
                keys.sort();
                serde_json::Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&o[k])))
                        .collect(),
                )
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
            v => v.clone(),
        }
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let mut canonical = serde_json::to_vec_pretty(&sorted(&v)).unwrap();
    canonical.push(b'\n');
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        String::from_utf8(canonical).unwrap()
    );
}

#[test]
fn dependencies_are_written_sorted_by_their_text() {
    let mut s = sample_state();
    let a = addr("tencentcloud_vpn_connection.office[\"sh\"]");
    // Address order puts index keys before string keys; text order puts `["k"]` before `[0]`.
    let deps = s.resources.get_mut(&a).unwrap();
    deps.dependencies = [
        addr("tencentcloud_vpn_gateway.g[0]"),
        addr("tencentcloud_vpn_gateway.g[\"k\"]"),
    ]
    .into();
    let text = String::from_utf8(s.to_json_bytes().unwrap()).unwrap();
    let by_key = text.find(r#""tencentcloud_vpn_gateway.g[\"k\"]""#).unwrap();
    let by_index = text.find(r#""tencentcloud_vpn_gateway.g[0]""#).unwrap();
    assert!(by_key < by_index, "{text}");
    assert_eq!(State::from_json_bytes(text.as_bytes()).unwrap(), s);
}

#[test]
fn secrets_become_digests_that_still_match() {
    let s = sample_state();
    let sh = &s.resources[&addr("tencentcloud_vpn_connection.office[\"sh\"]")];
    let bj = &s.resources[&addr("tencentcloud_vpn_connection.office[\"bj\"]")];
    assert!(!sh.attributes.contains_key("pre_share_key"));
    assert!(
        !bj.attributes.contains_key("pre_share_key"),
        "schema-sensitive even when not marked"
    );
    assert!(sh.secret_digests["pre_share_key"].matches(PSK_SH));
    assert!(!sh.secret_digests["pre_share_key"].matches(PSK_BJ));
    assert_eq!(
        bj.secret_matches("pre_share_key", &PSK_BJ.into()),
        Some(true)
    );
    assert_eq!(
        bj.secret_matches("pre_share_key", &"other".into()),
        Some(false)
    );
    let out = &s.outputs["admin_token"];
    assert!(as_digest_marker(&out.value).unwrap().matches(SECRET_OUTPUT));
    let bytes = s.to_json_bytes().unwrap();
    let text = String::from_utf8(bytes).unwrap();
    for secret in [PSK_SH, PSK_BJ, SECRET_OUTPUT] {
        assert!(!text.contains(secret));
    }
    assert!(text.contains("hmac-sha256:"));
}

#[test]
fn unchanged_secret_keeps_its_digest_so_the_file_does_not_change() {
    let mut s = sample_state();
    let a = addr("tencentcloud_vpn_connection.office[\"sh\"]");
    let before = s.to_json_bytes().unwrap();
    let r = s.resources.get_mut(&a).unwrap();
    let mut attrs = r.attributes.clone();
    attrs.insert("pre_share_key".into(), Value::sensitive(PSK_SH.into()));
    r.set_attributes(attrs.clone()).unwrap();
    assert_eq!(s.to_json_bytes().unwrap(), before);
    let previous_output = s.outputs["admin_token"].clone();
    s.outputs.insert(
        "admin_token".into(),
        OutputState::new(&SECRET_OUTPUT.into(), true, Some(&previous_output)),
    );
    assert_eq!(s.to_json_bytes().unwrap(), before);
    // A new key gives a new digest.
    attrs.insert(
        "pre_share_key".into(),
        Value::sensitive("a-new-key-0123456789".into()),
    );
    s.resources
        .get_mut(&a)
        .unwrap()
        .set_attributes(attrs)
        .unwrap();
    assert_ne!(s.to_json_bytes().unwrap(), before);
}

#[test]
fn writing_refuses_sensitive_or_unknown_values_anywhere() {
    let a = addr("tencentcloud_vpn_connection.office[\"sh\"]");
    type Mutation = Box<dyn Fn(&mut State)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|s: &mut State| {
                let r = s
                    .resources
                    .get_mut(&addr("tencentcloud_vpn_connection.office[\"sh\"]"))
                    .unwrap();
                r.attributes
                    .insert("name".into(), Value::sensitive("oops".into()));
            }),
            "sensitive value in clear",
        ),
        (
            Box::new(|s: &mut State| {
                let r = s
                    .resources
                    .get_mut(&addr("tencentcloud_vpn_connection.office[\"sh\"]"))
                    .unwrap();
                r.attributes.insert(
                    "tags".into(),
                    Value::Map(map(&[(
                        "deep",
                        Value::List(vec![Value::sensitive("oops".into())]),
                    )])),
                );
            }),
            "tags.deep[0] holds a sensitive value",
        ),
        (
            Box::new(|s: &mut State| {
                let r = s
                    .resources
                    .get_mut(&addr("tencentcloud_vpn_connection.office[\"sh\"]"))
                    .unwrap();
                r.attributes
                    .insert("pre_share_key".into(), "plain-text-key".into());
            }),
            "attribute pre_share_key holds a sensitive value in clear",
        ),
        (
            Box::new(|s: &mut State| {
                let r = s
                    .resources
                    .get_mut(&addr("tencentcloud_vpn_connection.office[\"sh\"]"))
                    .unwrap();
                r.attributes.insert("state".into(), Value::Unknown);
            }),
            "is unknown",
        ),
        (
            Box::new(|s: &mut State| {
                s.outputs.insert(
                    "o".into(),
                    OutputState {
                        sensitive: true,
                        value: "clear".into(),
                    },
                );
            }),
            "output \"o\" is sensitive",
        ),
        (
            Box::new(|s: &mut State| {
                s.outputs.insert(
                    "o".into(),
                    OutputState {
                        sensitive: false,
                        value: Value::sensitive("x".into()),
                    },
                );
            }),
            "sensitive value in clear",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::open(dir.path().join("s.json")).unwrap();
    for (mutate, expected) in cases {
        let mut s = sample_state();
        mutate(&mut s);
        let err = s.to_json_bytes().unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{err} should mention {expected}"
        );
        let serial = s.serial;
        let err = file.save(&mut s).unwrap_err();
        assert!(matches!(err, StateError::Invalid(_)), "{err}");
        assert_eq!(s.serial, serial, "a refused save leaves the serial alone");
        assert!(!file.path().exists());
    }
    let _ = a;
}

#[test]
fn set_attributes_rejects_unknown_and_leaves_the_resource_unchanged() {
    let mut r = ResourceState::new(ResourceKind::VpnConnection, "ap-guangzhou", "vpnx-1");
    r.set_attributes(map(&[("name", "a".into())])).unwrap();
    let before = r.clone();
    let err = r
        .set_attributes(map(&[("name", "b".into()), ("state", Value::Unknown)]))
        .unwrap_err();
    assert!(err.to_string().contains("state"));
    assert_eq!(r, before);
}

#[test]
fn save_bumps_serial_keeps_backup_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/net.tfstate.json");
    let file = StateFile::open(&path).unwrap();
    let mut s = file.load().unwrap();
    assert!(s.is_empty());
    assert_eq!(s.serial, 0);
    let lineage = s.lineage.clone();
    file.save(&mut s).unwrap();
    assert_eq!(s.serial, 1);
    assert!(path.is_file(), "parent directories are created");
    assert!(
        !file.backup_path().exists(),
        "nothing to back up on the first save"
    );
    let first = fs::read(&path).unwrap();

    let sample = sample_state();
    s.resources = sample.resources;
    s.outputs = sample.outputs;
    file.save(&mut s).unwrap();
    assert_eq!(s.serial, 2);
    assert_eq!(
        fs::read(file.backup_path()).unwrap(),
        first,
        "the backup is the previous version"
    );
    let loaded = file.load().unwrap();
    assert_eq!(loaded, s);
    assert_eq!(loaded.lineage, lineage);
    assert_eq!(file.load_backup().unwrap().serial, 1);

    let second = fs::read(&path).unwrap();
    let mut again = file.load().unwrap();
    file.save(&mut again).unwrap();
    assert_eq!(again.serial, 3);
    assert_eq!(fs::read(file.backup_path()).unwrap(), second);
    assert_no_secret_in_dir(dir.path());
}

#[test]
fn save_refuses_a_file_saved_by_someone_else_or_of_another_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::open(dir.path().join("s.json")).unwrap();
    let mut a = file.load().unwrap();
    file.save(&mut a).unwrap();
    let mut stale = file.load().unwrap();
    let mut fresh = file.load().unwrap();
    file.save(&mut fresh).unwrap();
    let err = file.save(&mut stale).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::StaleSerial {
                on_disk: 2,
                ours: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("someone else saved it"));

    let mut other = State::new();
    let err = file.save(&mut other).unwrap_err();
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&other.lineage));
    assert_eq!(file.load().unwrap().serial, 2);
}

/// A handle does not read again a file it loaded or saved itself (its lineage and serial are
/// known), and the backup is then that file under a second name, not a copy; one that changed on
/// disk since, even written in place to the same length, is read and checked in full.
#[test]
fn a_save_reads_the_file_again_only_when_it_changed_since_it_was_loaded_or_saved() {
    use std::io::{Seek, Write};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let file = StateFile::open(&path).unwrap();
    let mut s = sample_state();
    file.save(&mut s).unwrap();
    let first = fs::read(&path).unwrap();
    file.save(&mut s).unwrap();
    assert_eq!(fs::read(file.backup_path()).unwrap(), first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let second = fs::metadata(&path).unwrap().ino();
        file.save(&mut s).unwrap();
        assert_eq!(
            fs::metadata(file.backup_path()).unwrap().ino(),
            second,
            "the backup of a file this handle saved is that file, not a copy"
        );
    }

    // A write within one tick of the clock the filesystem stamps files with, after the file's
    // previous write, is not told apart from that write on kernels with coarse timestamps: the
    // edit below comes later than that.
    let reader = StateFile::open(&path).unwrap();
    let mut loaded = reader.load().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let text = fs::read_to_string(&path).unwrap();
    let serial = format!("\"serial\": {}", loaded.serial);
    assert!(text.contains(&serial), "{text}");
    let bumped = format!("\"serial\": {}", loaded.serial + 1);
    assert_eq!(
        serial.len(),
        bumped.len(),
        "the edit keeps the file's length"
    );
    let at = text.find(&serial).unwrap();
    let mut f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.seek(std::io::SeekFrom::Start(at as u64)).unwrap();
    f.write_all(bumped.as_bytes()).unwrap();
    drop(f);
    assert_eq!(fs::read(&path).unwrap().len(), text.len());
    let err = reader.save(&mut loaded).unwrap_err();
    assert!(
        matches!(err, StateError::StaleSerial { on_disk, ours, .. } if on_disk == ours + 1),
        "{err}"
    );

    // Replaced by another writer's rename: read again too.
    let other = StateFile::open(&path).unwrap();
    let mut theirs = other.load().unwrap();
    let mut mine = reader.load().unwrap();
    other.save(&mut theirs).unwrap();
    let err = reader.save(&mut mine).unwrap_err();
    assert!(matches!(err, StateError::StaleSerial { .. }), "{err}");
    // ... and one that is no state at all is not overwritten.
    let mut mine = reader.load().unwrap();
    fs::write(&path, "not a state").unwrap();
    let err = reader.save(&mut mine).unwrap_err();
    assert!(
        matches!(err, StateError::WouldOverwriteUnreadable { .. }),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "not a state");
}

#[test]
fn leftover_temp_files_are_ignored_by_load_and_removed_by_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let file = StateFile::open(&path).unwrap();
    let mut s = sample_state();
    file.save(&mut s).unwrap();
    // A writer (pid 0 is never a live user process) crashed after writing part of its temp file.
    let leftover = dir.path().join(".s.json.tmp-0-deadbeef0000");
    fs::write(&leftover, b"{\"format\":\"tunnelform-state\",\"lin").unwrap();
    assert_eq!(file.load().unwrap(), s);
    file.save(&mut s).unwrap();
    if Path::new("/proc/self").exists() {
        assert!(!leftover.exists(), "the next save cleans up");
    }
    assert_eq!(file.load().unwrap(), s);
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains(".tmp-") || n.contains("tmp-0-")),
        "{names:?}"
    );
}

#[test]
fn missing_file_with_a_backup_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    let file = StateFile::open(&path).unwrap();
    let mut s = State::new();
    file.save(&mut s).unwrap();
    file.save(&mut s).unwrap();
    fs::remove_file(&path).unwrap();
    let err = file.load().unwrap_err();
    assert!(matches!(err, StateError::MissingWithBackup { .. }), "{err}");
    assert!(err.to_string().contains("cp "), "{err}");
}

#[test]
fn a_directory_is_not_a_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = StateFile::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains("is a directory"));
}

/// Writes `bytes` as the state file (with a good backup beside it when `with_backup`), checks the load
/// error and its message, and that a save refuses to overwrite and leaves the bytes untouched.
fn check_unreadable(
    bytes: &[u8],
    with_backup: bool,
    expect: fn(&ParseError) -> bool,
    needles: &[&str],
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.tfstate.json");
    let file = StateFile::open(&path).unwrap();
    if with_backup {
        let mut s = sample_state();
        file.save(&mut s).unwrap();
        file.save(&mut s).unwrap();
    }
    fs::write(&path, bytes).unwrap();
    let err = file.load().unwrap_err();
    let cause = err
        .parse_error()
        .unwrap_or_else(|| panic!("not a parse error: {err}"));
    assert!(expect(cause), "unexpected cause {cause:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    for n in needles {
        let n = n
            .replace("{path}", &path.display().to_string())
            .replace("{backup}", &file.backup_path().display().to_string());
        assert!(msg.contains(&n), "{msg}\n  should contain: {n}");
    }
    let mut s = State::new();
    let err = file.save(&mut s).unwrap_err();
    assert!(
        matches!(err, StateError::WouldOverwriteUnreadable { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("refusing to overwrite"));
    assert_eq!(
        fs::read(&path).unwrap(),
        bytes,
        "an unreadable file is never overwritten"
    );
}

#[test]
fn truncated_file() {
    let good = sample_state().to_json_bytes().unwrap();
    let cut = &good[..good.len() / 2];
    check_unreadable(
        cut,
        true,
        |c| matches!(c, ParseError::Truncated { .. }),
        &["truncated", "will not overwrite", "cp {backup} {path}"],
    );
    check_unreadable(
        cut,
        false,
        |c| matches!(c, ParseError::Truncated { .. }),
        &["There is no backup at {backup}"],
    );
}

#[test]
fn empty_file() {
    check_unreadable(
        b"",
        true,
        |c| matches!(c, ParseError::Empty),
        &["empty", "cp {backup} {path}"],
    );
}

#[test]
fn corrupt_file() {
    let good = sample_state().to_json_bytes().unwrap();
    let mut bad = good.clone();
    let i = bad.iter().position(|b| *b == b':').unwrap();
    bad[i] = b'#';
    check_unreadable(
        &bad,
        true,
        |c| matches!(c, ParseError::Syntax { .. }),
        &["not valid JSON", "line 2", "cp {backup} {path}"],
    );
    // Valid JSON, wrong shape.
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["serial"] = serde_json::json!("seven");
    check_unreadable(
        &serde_json::to_vec(&v).unwrap(),
        true,
        |c| matches!(c, ParseError::Malformed { .. }),
        &["malformed", "cp {backup} {path}"],
    );
    // Valid shape, invalid content (a clear-text secret marker).
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["outputs"]["gateway_ip"]["value"] = serde_json::json!({"$tunnelform_sensitive": "leaked"});
    check_unreadable(
        &serde_json::to_vec(&v).unwrap(),
        false,
        |c| matches!(c, ParseError::Invalid(WriteError::SensitiveInClear { .. })),
        &["invalid", "sensitive"],
    );
}

#[test]
fn future_version_file() {
    let good = sample_state().to_json_bytes().unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["version"] = serde_json::json!(STATE_FORMAT_VERSION + 1);
    v["tunnelform_version"] = serde_json::json!("9.4.0");
    v["something_new"] = serde_json::json!({"unknown": "to this version"});
    check_unreadable(
        &serde_json::to_vec(&v).unwrap(),
        true,
        |c| matches!(c, ParseError::FutureVersion { found: 2, .. }),
        &[
            "format version 2 written by tunnelform 9.4.0",
            "reads versions up to 1",
            "Upgrade tunnelform to 9.4.0 or later",
        ],
    );
}

/// Files that are not this tunnelform's state, with a backup beside them: the message says how to
/// restore the backup in case the file replaced the state by mistake.
#[test]
fn foreign_terraform_and_future_files_point_at_the_backup() {
    let restore = "check it with `tunnelform state list --state {backup}`, then restore it with `cp {backup} {path}`";
    check_unreadable(
        include_bytes!("fixtures/terraform-v4-tencentcloud-vpn.tfstate"),
        true,
        |c| matches!(c, ParseError::Terraform { .. }),
        &[
            "tunnelform state migrate-terraform {path}",
            "will not overwrite {path}",
            "replaced your tunnelform state by mistake",
            restore,
        ],
    );
    check_unreadable(
        b"{\"hello\": \"world\"}",
        true,
        |c| matches!(c, ParseError::Foreign { .. }),
        &[
            "will not overwrite {path}",
            "the previous state is kept in {backup}",
            restore,
        ],
    );
    let good = sample_state().to_json_bytes().unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["version"] = serde_json::json!(STATE_FORMAT_VERSION + 1);
    check_unreadable(
        &serde_json::to_vec(&v).unwrap(),
        true,
        |c| matches!(c, ParseError::FutureVersion { .. }),
        &[
            // The sample names this tunnelform's own version: no "to VERSION or later".
            "Upgrade tunnelform to use this state",
            "will not overwrite {path}",
            "{backup} holds the version before the last save",
            "`cp {backup} {path}`",
        ],
    );
    // Without a backup, no backup is mentioned.
    check_unreadable(
        b"{\"hello\": \"world\"}",
        false,
        |c| matches!(c, ParseError::Foreign { .. }),
        &["will not overwrite {path}."],
    );
}

#[test]
fn terraform_state_file() {
    let tf = include_bytes!("fixtures/terraform-v4-tencentcloud-vpn.tfstate");
    check_unreadable(
        tf,
        false,
        |c| matches!(c, ParseError::Terraform { .. }),
        &[
            "Terraform state file (terraform_version 1.5.7)",
            "tunnelform state migrate-terraform {path}",
        ],
    );
}

#[test]
fn foreign_files() {
    check_unreadable(
        b"[1, 2, 3]\n",
        false,
        |c| matches!(c, ParseError::Foreign { .. }),
        &["not a tunnelform state file", "array"],
    );
    check_unreadable(
        b"{\"hello\": \"world\"}",
        false,
        |c| matches!(c, ParseError::Foreign { .. }),
        &["no \"format\""],
    );
    check_unreadable(
        b"{\"format\": \"tunnelform-plan\", \"version\": 1}",
        false,
        |c| matches!(c, ParseError::Foreign { .. }),
        &["tunnelform-plan"],
    );
    check_unreadable(
        b"{\"format\": \"tunnelform-state\", \"version\": 0}",
        false,
        |c| matches!(c, ParseError::BadVersion { .. }),
        &["version 0 is not valid"],
    );
    // Valid JSON whose header is not (a field given twice): malformed, with its position.
    check_unreadable(
        b"{\"format\": \"tunnelform-state\",\n \"format\": \"tunnelform-state\", \"version\": 1}",
        false,
        |c| matches!(c, ParseError::Malformed { line: 2, .. }),
        &["duplicate field `format`"],
    );
}

#[test]
fn replacing_an_unreadable_file_needs_an_explicit_decision_and_keeps_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    fs::write(&path, b"{ broken").unwrap();
    let mut file = StateFile::open(&path).unwrap();
    let mut s = State::new();
    assert!(file.save(&mut s).is_err());
    file.replace_unreadable(true);
    file.save(&mut s).unwrap();
    assert_eq!(file.load().unwrap(), s);
    let kept: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".unreadable-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(fs::read(&kept[0]).unwrap(), b"{ broken");
    assert!(
        !file.backup_path().exists(),
        "an unreadable file is not a backup"
    );
}

#[test]
fn identity_detects_moved_on_and_edited_states() {
    let dir = tempfile::tempdir().unwrap();
    let file = StateFile::open(dir.path().join("s.json")).unwrap();
    let mut s = sample_state();
    file.save(&mut s).unwrap();
    let planned = file.load().unwrap().identity().unwrap();
    assert!(planned
        .check(&file.load().unwrap().identity().unwrap())
        .is_ok());
    assert!(planned.digest.starts_with("sha256:"));

    let mut edited = file.load().unwrap();
    edited.resources.values_mut().next().unwrap().region = "ap-shanghai".into();
    let err = planned.check(&edited.identity().unwrap()).unwrap_err();
    assert!(
        err.to_string().contains("changed since the plan was made"),
        "{err}"
    );

    file.save(&mut edited).unwrap();
    let err = planned
        .check(&file.load().unwrap().identity().unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("serial 1 then, 2 now"), "{err}");

    let err = planned
        .check(&State::new().identity().unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("different state"), "{err}");
}

#[test]
fn debug_output_never_shows_secrets() {
    let s = sample_state();
    let dbg = format!("{s:?}");
    for secret in [PSK_SH, PSK_BJ, SECRET_OUTPUT] {
        assert!(!dbg.contains(secret));
    }
    assert!(dbg.contains("redacted"));
}

/// `from_json_bytes` must never panic, and anything it accepts must be a valid state that round-trips.
#[test]
fn reader_never_panics_on_mutated_input() {
    let good = sample_state().to_json_bytes().unwrap();
    let tf = include_bytes!("fixtures/terraform-v4-tencentcloud-vpn.tfstate").to_vec();
    let tokens: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b":",
        b",",
        b"null",
        b"true",
        b"-0",
        b"1e999",
        b"18446744073709551616",
        b"\"$tunnelform_sensitive\"",
        b"\"$tunnelform_unknown\"",
        b"\"$sensitive_digest\"",
        b"\\u0000",
        b"\\ud800",
        b"\xff",
        b"\x00",
        b"\"version\": 2",
        b"\"format\"",
        b"[\"",
        b"\"]",
        b"\"terraform_version\"",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7f_5eed);
    let mut accepted = 0;
    for i in 0..6000 {
        let mut bytes = if i % 5 == 0 { tf.clone() } else { good.clone() };
        for _ in 0..rng.gen_range(1..4) {
            let len = bytes.len().max(1);
            match rng.gen_range(0..6) {
                0 => {
                    let at = rng.gen_range(0..len);
                    if at < bytes.len() {
                        bytes[at] ^= 1 << rng.gen_range(0..8);
                    }
                }
                1 => bytes.truncate(rng.gen_range(0..len)),
                2 => {
                    let at = rng.gen_range(0..=bytes.len());
                    let t = tokens[rng.gen_range(0..tokens.len())];
                    bytes.splice(at..at, t.iter().copied());
                }
                3 => {
                    let a = rng.gen_range(0..=bytes.len());
                    let b = (a + rng.gen_range(0..64)).min(bytes.len());
                    bytes.drain(a..b);
                }
                4 => {
                    let a = rng.gen_range(0..=bytes.len());
                    let b = (a + rng.gen_range(0..128)).min(bytes.len());
                    let chunk: Vec<u8> = bytes[a..b].to_vec();
                    let at = rng.gen_range(0..=bytes.len());
                    bytes.splice(at..at, chunk);
                }
                _ => {
                    let at = rng.gen_range(0..=bytes.len());
                    let noise: Vec<u8> = (0..rng.gen_range(1..8)).map(|_| rng.gen()).collect();
                    bytes.splice(at..at, noise);
                }
            }
        }
        if let Ok(s) = State::from_json_bytes(&bytes) {
            accepted += 1;
            let out = s.to_json_bytes().expect("an accepted state is writable");
            assert_eq!(State::from_json_bytes(&out).unwrap(), s);
        }
    }
    // Some mutations (inside string values) keep the file valid; most do not.
    assert!(accepted > 0 && accepted < 6000, "accepted {accepted}");
    for hostile in [
        "[".repeat(100_000).into_bytes(),
        "{\"a\":".repeat(50_000).into_bytes(),
        format!(
            "{{\"format\":\"tunnelform-state\",\"version\":1,\"lineage\":\"{}\"",
            "x".repeat(1 << 20)
        )
        .into_bytes(),
        b"\xef\xbb\xbf{}".to_vec(),
    ] {
        assert!(State::from_json_bytes(&hostile).is_err());
    }
}

#[test]
fn the_recorded_cloud_round_trips_and_older_files_without_it_still_load() {
    // A state without a cloud is written exactly as before: no `cloud` key at all.
    let plain = sample_state();
    let bytes = plain.to_json_bytes().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(!text.contains("\"cloud\""), "{text}");
    let back = State::from_json_bytes(&bytes).unwrap();
    assert_eq!(back.cloud, None);
    assert_eq!(back, plain);

    let mut s = sample_state();
    s.cloud = Some(Cloud {
        account: "100012345678".into(),
        endpoint: "http://127.0.0.1:9000/".into(),
    });
    let bytes = s.to_json_bytes().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    // First in canonical (sorted) order, its own keys sorted.
    assert!(
        text.starts_with(
            "{\n  \"cloud\": {\n    \"account\": \"100012345678\",\n    \"endpoint\": \"http://127.0.0.1:9000/\"\n  },\n  \"format\""
        ),
        "{text}"
    );
    let back = State::from_json_bytes(&bytes).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.to_json_bytes().unwrap(), bytes);

    // Unknown members and an empty or hostile account are refused, saying what.
    let with = |cloud: &str| {
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["cloud"] = serde_json::from_str(cloud).unwrap();
        State::from_json_bytes(&serde_json::to_vec(&v).unwrap())
    };
    assert!(with(r#"{"account": "1", "endpoint": "sandbox", "region": "x"}"#).is_err());
    assert!(with(r#"{"account": "1"}"#).is_err());
    let err = with(r#"{"account": "", "endpoint": "sandbox"}"#).unwrap_err();
    assert!(err.to_string().contains("account"), "{err}");
    let err = with(r#"{"account": "1", "endpoint": "a\u001b[2Jb"}"#).unwrap_err();
    assert!(err.to_string().contains("endpoint"), "{err}");
    s.cloud.as_mut().unwrap().account = "12 34".into();
    assert!(matches!(
        s.to_json_bytes(),
        Err(WriteError::InvalidCloud { .. })
    ));
}

/// A state written as one document, split into the parts a database keeps: the envelope (the
/// document with `"resources": {}`) and each resource's (address, body).
fn parts_of(s: &State) -> (String, Vec<(String, String)>) {
    let doc: serde_json::Value = serde_json::from_slice(&s.to_json_bytes().unwrap()).unwrap();
    let mut envelope = doc.as_object().unwrap().clone();
    let resources = envelope.insert("resources".into(), serde_json::json!({}));
    let rows = resources
        .unwrap()
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_string(v).unwrap()))
        .collect();
    (serde_json::to_string(&envelope).unwrap(), rows)
}

fn from_parts(envelope: &str, rows: &[(String, String)]) -> Result<State, ParseError> {
    State::from_json_parts(
        envelope.as_bytes(),
        rows.iter().map(|(a, b)| (a.as_str(), b.as_str())),
    )
}

#[test]
fn a_state_read_in_parts_in_any_order_is_the_state_read_whole() {
    let s = sample_state();
    let (envelope, mut rows) = parts_of(&s);
    assert_eq!(rows.len(), s.resources.len());
    rows.reverse();
    let back = from_parts(&envelope, &rows).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.to_json_bytes().unwrap(), s.to_json_bytes().unwrap());
    // No resource at all: the envelope alone.
    let empty = from_parts(&envelope, &[]).unwrap();
    assert!(empty.resources.is_empty());
    assert_eq!(empty.lineage, s.lineage);
    assert_eq!(empty.serial, s.serial);
}

#[test]
fn a_bad_part_is_refused_naming_its_address() {
    let s = sample_state();
    let (envelope, rows) = parts_of(&s);
    let victim = rows[1].0.clone();

    // A body that is not a resource's entry.
    let mut bad = rows.clone();
    bad[1].1 = r#"{"attributes": 7}"#.into();
    let e = from_parts(&envelope, &bad).unwrap_err().to_string();
    assert!(e.contains(&victim), "{e}");
    assert!(e.contains("not a valid resource"), "{e}");
    // Truncated JSON.
    let mut bad = rows.clone();
    let half = bad[1].1.len() / 2;
    bad[1].1.truncate(half);
    let e = from_parts(&envelope, &bad).unwrap_err().to_string();
    assert!(e.contains(&victim), "{e}");

    // An address that is not one, or not written canonically.
    let mut bad = rows.clone();
    bad[0].0 = "not an address".into();
    let e = from_parts(&envelope, &bad).unwrap_err().to_string();
    assert!(e.contains("not an address"), "{e}");
    let mut bad = rows.clone();
    bad[0].0 = bad[0].0.replace('.', " . ");
    assert!(from_parts(&envelope, &bad).is_err());

    // The same address twice.
    let mut bad = rows.clone();
    bad.push(rows[0].clone());
    let e = from_parts(&envelope, &bad).unwrap_err().to_string();
    assert!(e.contains(&rows[0].0), "{e}");

    // An envelope that holds resources itself, or is not a state.
    let whole = String::from_utf8(s.to_json_bytes().unwrap()).unwrap();
    let e = from_parts(&whole, &rows).unwrap_err().to_string();
    assert!(e.contains("envelope holds resources"), "{e}");
    assert!(matches!(
        from_parts(r#"{"format": "other"}"#, &rows),
        Err(ParseError::Foreign { .. })
    ));
}
