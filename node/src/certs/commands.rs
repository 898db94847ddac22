//! The five subcommands, on their parsed arguments: each writes its report to `out`, one line
//! per file written or certificate field.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use super::cli::{InitArgs, IssueArgs, NewCaArgs, ProbeArgs, ShowArgs};
use super::files::{check_name, create_dir, pair_state, refuse_existing, write_cert, write_key};
use super::inspect::{self, describe_certificate};
use super::{CertificateAuthority, CertsError, LeafSpec, DEFAULT_CA_DAYS};
use crate::net::host_of;
use crate::tls;

/// `text` as it is on `out`.
pub(super) fn write_out(out: &mut dyn Write, text: &str) -> Result<(), CertsError> {
    out.write_all(text.as_bytes())
        .map_err(|source| CertsError::Write {
            path: PathBuf::from("<stdout>"),
            source,
        })
}

fn say(out: &mut dyn Write, line: String) -> Result<(), CertsError> {
    write_out(out, &format!("{line}\n"))
}

/// The names of an option that takes a list: split on commas and spaces, every occurrence.
fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split([',', ' ']))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `Redoubt CA <date> <random>`: CAs of one cluster must have distinct names, or a verifier
/// that trusts the old CA only finds it by name and reports a bad signature.
fn ca_common_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let date = tls::format_unix_time(i64::try_from(secs).unwrap_or(0));
    let suffix: [u8; 4] = rand::random();
    format!("Redoubt CA {} {}", &date[..10], crate::hex::encode(&suffix))
}

/// `init`: the node names, checked (file names, not `client`).
fn init_node_names(args: &InitArgs) -> Result<Vec<String>, CertsError> {
    let nodes = split_list(&args.nodes);
    if nodes.is_empty() {
        return Err(CertsError::Usage(
            "init: '--nodes' is required (see --help)".into(),
        ));
    }
    for node in &nodes {
        check_name("node name", node)?;
        if node == "client" {
            return Err(CertsError::Usage(
                "init: invalid node name 'client' (client.crt is the client certificate)".into(),
            ));
        }
    }
    check_name("client name", &args.client_name)?;
    Ok(nodes)
}

/// `redoubt certs init`: a CA (or the one in `--out`), then every node and client pair that is
/// missing (all of them with `--force`).
pub(super) fn init(args: &InitArgs, out: &mut dyn Write) -> Result<(), CertsError> {
    let nodes = init_node_names(args)?;
    let (dir, days, force) = (&args.out, args.days, args.force);
    let extra_sans = split_list(&args.san);
    create_dir(dir)?;

    let ca_crt = dir.join("ca.crt");
    let ca_key = dir.join("ca.key");
    let mut leaves: Vec<(String, LeafSpec)> = nodes
        .iter()
        .map(|n| (n.clone(), LeafSpec::node(n, &extra_sans, days)))
        .collect();
    leaves.push((
        "client".to_string(),
        LeafSpec::client(&args.client_name, &[], days),
    ));

    // Which files are there decides what is made (without --force nothing is overwritten).
    let ca_exists = !force && pair_state(&ca_crt, &ca_key)?;
    let missing = missing_leaves(dir, leaves, ca_exists, force)?;
    if ca_exists && missing.is_empty() {
        return say(
            out,
            format!(
                "certificates already exist in {} (ca, {}, client); nothing to do (use --force to replace them)",
                dir.display(),
                nodes.join(", ")
            ),
        );
    }
    let ca = if ca_exists {
        say(out, format!("using the existing CA {}", ca_crt.display()))?;
        CertificateAuthority::load(&ca_crt, &ca_key)?
    } else {
        let ca = CertificateAuthority::generate(&ca_common_name(), days.max(DEFAULT_CA_DAYS))?;
        write_ca(&ca, &ca_crt, &ca_key, force)?;
        say(
            out,
            format!("wrote {} and {}", ca_crt.display(), ca_key.display()),
        )?;
        ca
    };
    for (file, spec) in &missing {
        let (crt, key) = leaf_paths(dir, file);
        write_leaf(&ca, spec, &crt, &key, force, out)?;
    }
    Ok(())
}

/// `dir/file.crt` and `dir/file.key`.
fn leaf_paths(dir: &Path, file: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{file}.crt")),
        dir.join(format!("{file}.key")),
    )
}

/// The leaves `init` has to make: all with `force`, else those whose pair is absent. A
/// present pair with no CA to keep is an error: it would not chain to a new CA.
fn missing_leaves(
    dir: &Path,
    leaves: Vec<(String, LeafSpec)>,
    ca_exists: bool,
    force: bool,
) -> Result<Vec<(String, LeafSpec)>, CertsError> {
    let mut missing = Vec::new();
    for (file, spec) in leaves {
        let (crt, key) = leaf_paths(dir, &file);
        if force || !pair_state(&crt, &key)? {
            missing.push((file, spec));
        } else if !ca_exists {
            return Err(CertsError::Exists(key));
        }
    }
    Ok(missing)
}

/// The CA's key then its certificate.
fn write_ca(
    ca: &CertificateAuthority,
    crt: &Path,
    key: &Path,
    force: bool,
) -> Result<(), CertsError> {
    write_key(key, &ca.key_pem(), force)?;
    write_cert(crt, ca.cert_pem(), force)
}

/// Issues `spec` from `ca` into `crt`/`key` and reports it.
fn write_leaf(
    ca: &CertificateAuthority,
    spec: &LeafSpec,
    crt: &Path,
    key: &Path,
    force: bool,
    out: &mut dyn Write,
) -> Result<(), CertsError> {
    let issued = ca.issue(spec)?;
    write_key(key, &issued.key_pem, force)?;
    write_cert(crt, &issued.cert_pem, force)?;
    say(
        out,
        format!(
            "wrote {} and {} (CN={}, serial {})",
            crt.display(),
            key.display(),
            spec.common_name,
            issued.serial
        ),
    )
}

/// `redoubt certs issue`: one leaf from the CA in `--ca-dir`.
pub(super) fn issue(args: &IssueArgs, out: &mut dyn Write) -> Result<(), CertsError> {
    let name = &args.name;
    check_name("name", name)?;
    let out_dir = args.out.as_ref().unwrap_or(&args.ca_dir);
    let sans = split_list(&args.san);
    let spec = if args.client {
        LeafSpec::client(name, &sans, args.days)
    } else {
        LeafSpec::node(name, &sans, args.days)
    };
    let (crt, key) = leaf_paths(out_dir, name);
    refuse_existing(&[&key, &crt], args.force)?;
    let ca = CertificateAuthority::load(&args.ca_dir.join("ca.crt"), &args.ca_dir.join("ca.key"))?;
    create_dir(out_dir)?;
    write_leaf(&ca, &spec, &crt, &key, args.force, out)
}

/// `redoubt certs new-ca`: a new CA in `--out`.
pub(super) fn new_ca(args: &NewCaArgs, out: &mut dyn Write) -> Result<(), CertsError> {
    let dir = &args.out;
    let name = args.name.clone().unwrap_or_else(ca_common_name);
    let (crt, key) = (dir.join("ca.crt"), dir.join("ca.key"));
    refuse_existing(&[&key, &crt], args.force)?;
    create_dir(dir)?;
    let ca = CertificateAuthority::generate(&name, args.days)?;
    write_ca(&ca, &crt, &key, args.force)?;
    say(
        out,
        format!("wrote {} and {} (CN={name})", crt.display(), key.display()),
    )
}

/// `redoubt certs show`: every certificate of the file, separated by blank lines.
pub(super) fn show(args: &ShowArgs, out: &mut dyn Write) -> Result<(), CertsError> {
    let certs = tls::load_cert_chain(&args.file)?;
    for (i, cert) in certs.iter().enumerate() {
        if i > 0 {
            say(out, String::new())?;
        }
        for line in describe_certificate(cert) {
            say(out, line)?;
        }
    }
    Ok(())
}

/// `redoubt certs probe`: the certificate `HOST:PORT` serves, and the protocol.
pub(super) fn probe(args: &ProbeArgs, out: &mut dyn Write) -> Result<(), CertsError> {
    let client_cert = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        (None, None) => None,
        _ => {
            return Err(CertsError::Usage(
                "probe: '--cert' and '--key' go together (see --help)".into(),
            ))
        }
    };
    let host = args
        .server_name
        .clone()
        .unwrap_or_else(|| host_of(&args.addr));
    let (served, protocol) = inspect::probe(&args.addr, &host, &args.ca, client_cert.as_ref())?;
    for line in describe_certificate(&served) {
        say(out, line)?;
    }
    say(out, format!("protocol: {protocol}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::test_util::{cert_der, mode, run_err, run_ok};
    use super::super::verify_chain;
    use crate::tls;

    #[test]
    fn init_makes_a_ca_node_and_client_certificates_that_chain() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        let report = run_ok(&["init", "--out", d, "--nodes", "node1,node2,node3"]);
        assert!(report.contains("ca.crt"), "{report}");
        let ca = cert_der(&dir.path().join("ca.crt"));
        for name in ["node1", "node2", "node3", "client"] {
            let leaf = cert_der(&dir.path().join(format!("{name}.crt")));
            verify_chain(&ca, &leaf).unwrap_or_else(|e| panic!("{name} chains: {e}"));
            tls::load_private_key(&dir.path().join(format!("{name}.key"))).expect("key parses");
            assert_eq!(mode(&dir.path().join(format!("{name}.key"))), 0o600);
        }
        assert_eq!(mode(&dir.path().join("ca.key")), 0o600);
        let node1 =
            tls::certificate_names(&cert_der(&dir.path().join("node1.crt"))).expect("names");
        assert_eq!(node1.common_names, vec!["node1"]);
        assert_eq!(node1.dns_names, vec!["node1", "localhost"]);
        assert_eq!(node1.ip_addresses.len(), 2);
        let client = cert_der(&dir.path().join("client.crt"));
        assert_eq!(
            tls::certificate_common_name(&client).as_deref(),
            Some("client")
        );
        // The node certificate works as a server certificate for its names.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca).expect("root");
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            tls::crypto_provider(),
        )
        .build()
        .expect("verifier");
        for host in ["node1", "localhost", "127.0.0.1", "::1"] {
            let name = rustls_pki_types::ServerName::try_from(host).expect("name");
            rustls::client::danger::ServerCertVerifier::verify_server_cert(
                verifier.as_ref(),
                &cert_der(&dir.path().join("node1.crt")),
                &[],
                &name,
                &[],
                rustls_pki_types::UnixTime::now(),
            )
            .unwrap_or_else(|e| panic!("node1 valid for {host}: {e}"));
        }
    }

    #[test]
    fn init_never_overwrites_a_key_without_force() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        run_ok(&[
            "init",
            "--out",
            d,
            "--nodes",
            "node1",
            "--client-name",
            "alice",
        ]);
        let key_before = std::fs::read(dir.path().join("node1.key")).expect("key");
        // Everything there: nothing to do, success.
        let report = run_ok(&[
            "init",
            "--out",
            d,
            "--nodes",
            "node1",
            "--client-name",
            "alice",
        ]);
        assert!(report.contains("nothing to do"), "{report}");
        // A key without its certificate: refused, naming the key.
        std::fs::remove_file(dir.path().join("node1.crt")).expect("rm");
        let e = run_err(&["init", "--out", d, "--nodes", "node1"]);
        assert!(e.contains("node1.key") && e.contains("--force"), "{e}");
        assert_eq!(
            std::fs::read(dir.path().join("node1.key")).expect("key"),
            key_before
        );
        // A new CA would orphan existing leaves: refused too.
        std::fs::remove_file(dir.path().join("ca.crt")).expect("rm");
        std::fs::remove_file(dir.path().join("ca.key")).expect("rm");
        let e = run_err(&["init", "--out", d, "--nodes", "node1"]);
        assert!(e.contains("already exists"), "{e}");
        // --force regenerates everything, keys still 0600.
        run_ok(&["init", "--out", d, "--nodes", "node1", "--force"]);
        assert_ne!(
            std::fs::read(dir.path().join("node1.key")).expect("key"),
            key_before
        );
        assert_eq!(mode(&dir.path().join("node1.key")), 0o600);
        let ca = cert_der(&dir.path().join("ca.crt"));
        verify_chain(&ca, &cert_der(&dir.path().join("node1.crt"))).expect("chains");
    }

    #[test]
    fn init_reuses_the_ca_for_a_new_node() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        run_ok(&["init", "--out", d, "--nodes", "node1"]);
        let ca_before = std::fs::read(dir.path().join("ca.crt")).expect("ca");
        let report = run_ok(&["init", "--out", d, "--nodes", "node1,node4"]);
        assert!(report.contains("existing CA"), "{report}");
        assert_eq!(
            std::fs::read(dir.path().join("ca.crt")).expect("ca"),
            ca_before
        );
        let ca = cert_der(&dir.path().join("ca.crt"));
        verify_chain(&ca, &cert_der(&dir.path().join("node4.crt"))).expect("chains");
    }

    #[test]
    fn issue_signs_a_new_leaf_from_the_existing_ca() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        run_ok(&["init", "--out", d, "--nodes", "node1"]);
        let ca = cert_der(&dir.path().join("ca.crt"));
        let old = cert_der(&dir.path().join("node1.crt"));
        let e = run_err(&["issue", "--ca-dir", d, "--name", "node1"]);
        assert!(e.contains("node1.key"), "{e}");
        run_ok(&[
            "issue",
            "--ca-dir",
            d,
            "--name",
            "node1",
            "--san",
            "node1.example",
            "--force",
        ]);
        let new = cert_der(&dir.path().join("node1.crt"));
        assert_ne!(old, new);
        verify_chain(&ca, &new).expect("chains to the same CA");
        let names = tls::certificate_names(&new).expect("names");
        assert!(names.dns_names.contains(&"node1.example".to_string()));
        assert_eq!(mode(&dir.path().join("node1.key")), 0o600);
        // Into another directory, a client certificate.
        let other = dir.path().join("out");
        let o = other.to_str().expect("utf8");
        run_ok(&[
            "issue", "--ca-dir", d, "--name", "bob", "--client", "--out", o, "--days", "2",
        ]);
        verify_chain(&ca, &cert_der(&other.join("bob.crt"))).expect("client chains");
        let show = run_ok(&["show", other.join("bob.crt").to_str().expect("utf8")]);
        assert!(show.contains("subject: CN=bob"), "{show}");
        assert!(show.contains("ca: no"), "{show}");
    }

    #[test]
    fn new_ca_and_show_report_what_scripts_compare() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        run_ok(&["new-ca", "--out", d, "--name", "Test CA"]);
        assert_eq!(mode(&dir.path().join("ca.key")), 0o600);
        let e = run_err(&["new-ca", "--out", d]);
        assert!(e.contains("ca.key"), "{e}");
        let show = run_ok(&["show", dir.path().join("ca.crt").to_str().expect("utf8")]);
        for field in [
            "subject: O=Redoubt, CN=Test CA",
            "serial: ",
            "not-before: ",
            "not-after: ",
            "ca: yes",
            "sha256: ",
        ] {
            assert!(show.contains(field), "{field} missing in {show}");
        }
        run_ok(&["issue", "--ca-dir", d, "--name", "n1"]);
        let ca = cert_der(&dir.path().join("ca.crt"));
        verify_chain(&ca, &cert_der(&dir.path().join("n1.crt"))).expect("chains");
    }

    #[test]
    fn issue_from_a_missing_ca_names_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_str().expect("utf8 path");
        let e = run_err(&["issue", "--ca-dir", d, "--name", "n1"]);
        assert!(e.contains("ca.crt"), "{e}");
    }
}
