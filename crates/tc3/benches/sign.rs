//! Cost of signing a typical CreateVpnConnection request.
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tunnelform_tc3::{sign, verify, Credentials, RequestParts, DEFAULT_SIGNED_HEADERS};

const BODY: &str = r#"{"VpcId":"vpc-gapcv96p","VpnGatewayId":"vpngw-1w9tue3d","CustomerGatewayId":"cgw-qa9sxpy7","VpnConnectionName":"office-shanghai","PreShareKey":"0123456789abcdef0123","SecurityPolicyDatabases":[{"LocalCidrBlock":"10.8.4.0/24","RemoteCidrBlock":["58.211.1.0/24","58.211.2.0/24"]}],"IKEOptionsSpecification":{"PropoEncryAlgorithm":"AES-CBC-256","PropoAuthenAlgorithm":"SHA256","ExchangeMode":"MAIN","LocalIdentity":"ADDRESS","RemoteIdentity":"ADDRESS","LocalAddress":"58.211.2.5","RemoteAddress":"1.2.3.4","DhGroupName":"GROUP14","IKESaLifetimeSeconds":86400,"IKEVersion":"IKEV2"},"IPSECOptionsSpecification":{"EncryptAlgorithm":"AES-CBC-256","IntegrityAlgorith":"SHA256","IPSECSaLifetimeSeconds":3600,"PfsDhGroup":"DH-GROUP14","IPSECSaLifetimeTraffic":1843200},"Tags":[{"Key":"env","Value":"prod"}],"EnableHealthCheck":true,"RouteType":"StaticRoute","NegotiationType":"active","DpdEnable":1,"DpdTimeout":"30","DpdAction":"clear"}"#;

fn bench(c: &mut Criterion) {
    let creds = Credentials::new("AKIDsandbox", "sandboxsecret", None);
    let ts = 1_700_000_000i64;
    let ts_s = ts.to_string();
    let headers = [
        ("Content-Type", "application/json"),
        ("Host", "vpc.tencentcloudapi.com"),
        ("X-TC-Action", "CreateVpnConnection"),
        ("X-TC-Timestamp", ts_s.as_str()),
        ("X-TC-Version", "2017-03-12"),
        ("X-TC-Region", "ap-guangzhou"),
    ];
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload: BODY.as_bytes(),
    };
    c.bench_function("sign CreateVpnConnection", |b| {
        b.iter(|| {
            sign(black_box(&parts), DEFAULT_SIGNED_HEADERS, "vpc", ts, &creds)
                .map(|s| s.authorization)
        })
    });
    let auth = sign(&parts, DEFAULT_SIGNED_HEADERS, "vpc", ts, &creds)
        .unwrap()
        .authorization;
    let mut with_auth = headers.to_vec();
    with_auth.push(("Authorization", auth.as_str()));
    let vparts = RequestParts {
        headers: &with_auth,
        ..parts
    };
    c.bench_function("verify CreateVpnConnection", |b| {
        b.iter(|| {
            verify(black_box(&vparts), ts, |_| {
                Some("sandboxsecret".to_string())
            })
            .is_ok()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
