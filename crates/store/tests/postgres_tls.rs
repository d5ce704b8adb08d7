//! PostgreSQL over TLS with the libpq compiled into the binary (pq-sys `bundled`, OpenSSL linked
//! statically): `sslmode=require` encrypts every pooled connection, and `verify-full` checks
//! the server's certificate and name (libpq: "SSL Support", modes `require` and `verify-full`).
//! The test server (testkit, scripts/test) presents a self-signed certificate for 127.0.0.1.

use gatehouse_store::Store;

/// The test server's connections to `url`'s database other than psql's own, as
/// (encrypted, plain).
fn connections_by_tls(url: &str) -> (u32, u32) {
    let out = testkit::psql(
        url,
        "select count(*) filter (where s.ssl), count(*) filter (where not s.ssl) \
         from pg_stat_ssl s join pg_stat_activity a using (pid) \
         where a.datname = current_database() and a.pid <> pg_backend_pid()",
    );
    let count = |n: &str| n.parse().unwrap_or_else(|e| panic!("psql printed {out:?}: {e}"));
    match out.trim().split_once('|') {
        Some((encrypted, plain)) => (count(encrypted), count(plain)),
        None => panic!("psql printed {out:?}"),
    }
}

fn with_params(url: &str, params: &str) -> String {
    format!("{url}?{params}")
}

#[test]
fn sslmode_require_encrypts_every_pooled_connection() {
    let url = testkit::fresh_database_url();
    let store = Store::connect(&with_params(&url, "sslmode=require"), 4).unwrap();
    store.migrate().unwrap();
    let (encrypted, plain) = connections_by_tls(&url);
    assert!(encrypted >= 1, "no TLS connection from the pool ({plain} plain)");
    assert_eq!(plain, 0, "{plain} pooled connections without TLS");
}

#[test]
fn sslmode_disable_is_plain_so_the_check_above_can_fail() {
    let url = testkit::fresh_database_url();
    let store = Store::connect(&with_params(&url, "sslmode=disable"), 4).unwrap();
    store.migrate().unwrap();
    let (encrypted, plain) = connections_by_tls(&url);
    assert_eq!(encrypted, 0);
    assert!(plain >= 1);
}

#[test]
fn verify_full_accepts_the_servers_certificate() {
    let url = testkit::fresh_database_url();
    let root = testkit::postgres_root_cert();
    let params = format!("sslmode=verify-full&sslrootcert={}", root.display());
    let store = Store::connect(&with_params(&url, &params), 2).unwrap();
    store.migrate().unwrap();
    assert_eq!(connections_by_tls(&url).1, 0);
}

#[test]
fn verify_full_refuses_a_certificate_for_another_name() {
    // The certificate names the address 127.0.0.1 only; `localhost` reaches the same server.
    let url = testkit::fresh_database_url().replacen("@127.0.0.1:", "@localhost:", 1);
    assert!(url.contains("@localhost:"), "{url}");
    let root = testkit::postgres_root_cert();
    let params = format!("sslmode=verify-full&sslrootcert={}", root.display());
    let err = Store::connect(&with_params(&url, &params), 2).unwrap_err().to_string();
    assert!(err.contains("does not match host name"), "{err}");
}

#[test]
fn verify_full_refuses_a_certificate_from_an_unknown_authority() {
    let url = testkit::fresh_database_url();
    let dir = tempfile::tempdir().unwrap();
    // A root that did not sign the server's certificate: any other PEM certificate does.
    let other = dir.path().join("other.crt");
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.path().join("other.key"))
        .arg("-out")
        .arg(&other)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let params = format!("sslmode=verify-full&sslrootcert={}", other.display());
    let err = Store::connect(&with_params(&url, &params), 2).unwrap_err().to_string();
    assert!(err.contains("certificate verify failed"), "{err}");
}
