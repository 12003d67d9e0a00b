//! `GetCallerIdentity` and the world's account: fixed, random per new world, kept in the data file.

use serde_json::json;
use tunnelform_sandbox::{Sandbox, SandboxConfig, SandboxError, DEFAULT_UIN};

use crate::common::*;

fn unpinned(data: Option<&std::path::Path>) -> SandboxConfig {
    SandboxConfig {
        data_file: data.map(|p| p.to_path_buf()),
        uin: None,
        seed: None,
        ..config()
    }
}

fn is_new_world_uin(uin: &str) -> bool {
    uin.len() == 10 && uin.bytes().all(|b| b.is_ascii_digit()) && !uin.starts_with('0')
}

#[tokio::test]
async fn get_caller_identity_answers_the_configured_account_and_is_counted() {
    let (h, c) = start(SandboxConfig {
        uin: Some("200000000002".into()),
        ..config()
    })
    .await;
    assert_eq!(h.uin(), "200000000002");
    let resp = c.send(Req::sts("GetCallerIdentity", json!({}))).await;
    let r = resp.response();
    assert_eq!(r["AccountId"], "200000000002", "{}", resp.text);
    assert_eq!(r["Type"], "RootAccount");
    assert_eq!(r["Arn"], "qcs::cam::uin/200000000002:uin/200000000002");
    assert!(r["RequestId"].is_string());
    // The same version as tag, told apart by the action; the scope must say sts.
    let mut wrong_scope = Req::sts("GetCallerIdentity", json!({}));
    wrong_scope.scope_service = Some("tag".into());
    assert_eq!(
        c.send(wrong_scope).await.error_code(),
        Some("AuthFailure.SignatureFailure")
    );
    assert_eq!(
        c.send(Req::sts("GetCallerIdentity", json!({"Bogus": 1})))
            .await
            .error_code(),
        Some("UnknownParameter")
    );
    assert_eq!(
        c.send(Req::sts("GetResources", json!({})))
            .await
            .error_code(),
        Some("AuthFailure.SignatureFailure")
    );
    // Tag names carry the same account.
    let cgw = c.create_cgw("58.211.1.12").await;
    let name = format!("qcs::vpc:{REGION}:uin/200000000002:cgw/{cgw}");
    c.tag(
        "TagResources",
        json!({"ResourceList": [name], "Tags": [{"TagKey": "k", "TagValue": "v"}]}),
    )
    .await;
    let stats = h.stats();
    assert_eq!(stats.requests_for("GetCallerIdentity"), 3, "{stats:?}");
    h.shutdown().await.unwrap();
}

#[tokio::test]
async fn each_new_world_has_its_own_account_kept_in_its_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let (a_path, b_path) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let (h, c) = start(unpinned(Some(&a_path))).await;
    let a = c.account().await;
    assert!(is_new_world_uin(&a), "{a}");
    assert_eq!(h.uin(), a);
    h.shutdown().await.unwrap();
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&a_path).unwrap()).unwrap();
    assert_eq!(file["Uin"], a.as_str());

    // The same data file, another start: the same account.
    let (h, c) = start(unpinned(Some(&a_path))).await;
    assert_eq!(c.account().await, a);
    h.shutdown().await.unwrap();

    // Another world (and one without a data file) is another account.
    let (h, c) = start(unpinned(Some(&b_path))).await;
    let b = c.account().await;
    assert!(is_new_world_uin(&b) && b != a, "{a} {b}");
    h.shutdown().await.unwrap();
    let (h, c) = start(unpinned(None)).await;
    let n = c.account().await;
    assert!(is_new_world_uin(&n) && n != a && n != b, "{a} {b} {n}");
    h.shutdown().await.unwrap();

    // A configured uin that is not the data file's is refused, naming both.
    let err = Sandbox::start(SandboxConfig {
        uin: Some("300000000003".into()),
        ..unpinned(Some(&a_path))
    })
    .await
    .unwrap_err();
    assert!(matches!(err, SandboxError::OtherAccount { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&a) && msg.contains("300000000003"), "{msg}");
}

#[tokio::test]
async fn a_data_file_without_an_account_is_the_default_account_s_and_gets_it_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    let (h, c) = start(SandboxConfig {
        data_file: Some(path.clone()),
        ..config()
    })
    .await;
    let cgw = c.create_cgw("58.211.1.12").await;
    h.shutdown().await.unwrap();
    // As written before worlds had their own account.
    let mut file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(file.as_object_mut().unwrap().remove("Uin").is_some());
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();

    let (h, c) = start(unpinned(Some(&path))).await;
    assert_eq!(c.account().await, DEFAULT_UIN);
    // Resource names made with the default uin stay valid.
    let name = format!("qcs::vpc:{REGION}:uin/{DEFAULT_UIN}:cgw/{cgw}");
    c.tag(
        "TagResources",
        json!({"ResourceList": [name], "Tags": [{"TagKey": "k", "TagValue": "v"}]}),
    )
    .await;
    h.shutdown().await.unwrap();
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(file["Uin"], DEFAULT_UIN);
}
