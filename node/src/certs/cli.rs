//! The command line of `redoubt certs`: clap definitions and help texts, the dispatch to the
//! five subcommands, and clap's errors turned into the one-line messages scripts see
//! (`init: '--out' is required (see --help)`), exit code 1.

use std::io::Write;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser, Subcommand};

use super::{commands, CertsError, DEFAULT_CA_DAYS, DEFAULT_LEAF_DAYS};

const INIT_DETAILS: &str = "\
Writes into DIR: ca.crt/ca.key (the cluster CA), NAME.crt/NAME.key for each node
(CN=NAME, SANs NAME, localhost, 127.0.0.1, ::1; serverAuth+clientAuth: the node's
RESP TLS and peer certificate) and client.crt/client.key (CN=client name, default
'client'; clientAuth). Keys are created with mode 0600.

An existing CA in DIR is reused to issue missing certificates; existing keys are
never overwritten without --force (which regenerates everything). When every file
exists, init says so and does nothing.";

const ISSUE_DETAILS: &str = "\
Issues NAME.crt/NAME.key, signed by DIR/ca.crt and DIR/ca.key, into --out (default
DIR). A node certificate (default) has CN=NAME, SANs NAME, localhost, 127.0.0.1, ::1
plus --san, and serverAuth+clientAuth; --client makes a clientAuth certificate with
the --san names only. Existing files are replaced only with --force (atomically:
a node watching the directory picks the new certificate up).";

const NEW_CA_DETAILS: &str = "\
Writes a new self-signed CA, DIR/ca.crt and DIR/ca.key (mode 0600), valid for --days
(default 3650). For a CA roll: make the new CA in another directory, have nodes
trust both (a CA file holding both certificates), issue new leaves from the new
CA, then drop the old CA from the trust bundle.";

const SHOW_DETAILS: &str = "\
Prints, for each certificate of the PEM file: subject, issuer, serial, not-before,
not-after (UTC, YYYY-MM-DDTHH:MM:SSZ), SANs, whether it is a CA, and the SHA-256
fingerprint of its DER encoding.";

const PROBE_DETAILS: &str = "\
Connects to a TLS port, verifies the served certificate against --ca (and the server
name: --server-name, default HOST), and prints that certificate as 'show' does, plus
the negotiated protocol. --cert/--key present a client certificate (needed by ports
that require one, such as the peer port).";

/// `redoubt certs <command> [options]`.
#[derive(Debug, Parser)]
#[command(
    name = "redoubt certs",
    bin_name = "redoubt certs",
    about = "Makes, rotates and inspects the certificates of a Redoubt cluster (ECDSA P-256).",
    after_help = "Run 'redoubt certs <command> --help' for a command's options.",
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// `args_override_self`: a repeated option takes its last value, as before clap.
#[derive(Debug, Subcommand)]
enum Command {
    /// a CA, a certificate per node and a client certificate
    #[command(after_help = INIT_DETAILS, args_override_self = true)]
    Init(InitArgs),
    /// a new leaf certificate from an existing CA (rotation, a new node)
    #[command(after_help = ISSUE_DETAILS, args_override_self = true)]
    Issue(IssueArgs),
    /// a new CA (the first step of a CA roll)
    #[command(after_help = NEW_CA_DETAILS, args_override_self = true)]
    NewCa(NewCaArgs),
    /// print a certificate's subject, SANs, serial and validity
    #[command(after_help = SHOW_DETAILS, args_override_self = true)]
    Show(ShowArgs),
    /// print the certificate a TLS port serves now
    #[command(after_help = PROBE_DETAILS, args_override_self = true)]
    Probe(ProbeArgs),
}

/// The names of the subcommands, in the order of the help.
const COMMANDS: [&str; 5] = ["init", "issue", "new-ca", "show", "probe"];

#[derive(Debug, Args)]
pub(super) struct InitArgs {
    /// directory to write into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// node names, one certificate each (comma-separated; the option may repeat)
    #[arg(long, value_name = "NAME,...", required = true)]
    pub nodes: Vec<String>,
    /// common name of the client certificate (written as client.crt/client.key)
    #[arg(long, value_name = "NAME", default_value = "client")]
    pub client_name: String,
    /// extra DNS names / IP addresses for every node certificate
    #[arg(long, value_name = "NAME,...")]
    pub san: Vec<String>,
    /// validity of the leaf certificates in days (the CA gets at least 3650)
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_LEAF_DAYS,
        value_parser = parse_days,
        allow_hyphen_values = true,
    )]
    pub days: u32,
    /// regenerate everything, replacing existing keys and certificates
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub(super) struct IssueArgs {
    /// directory holding the signing CA, ca.crt and ca.key
    #[arg(long, value_name = "DIR")]
    pub ca_dir: PathBuf,
    /// common name and file name (NAME.crt, NAME.key) of the certificate
    #[arg(
        long,
        value_name = "NAME",
        value_parser = clap::builder::NonEmptyStringValueParser::new(),
    )]
    pub name: String,
    /// extra DNS names / IP addresses (comma-separated; the option may repeat)
    #[arg(long, value_name = "NAME,...")]
    pub san: Vec<String>,
    /// a client certificate (clientAuth only) instead of a node certificate
    #[arg(long)]
    pub client: bool,
    /// directory to write into [default: the --ca-dir directory]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// validity in days
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_LEAF_DAYS,
        value_parser = parse_days,
        allow_hyphen_values = true,
    )]
    pub days: u32,
    /// replace existing files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub(super) struct NewCaArgs {
    /// directory to write ca.crt and ca.key into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// common name of the CA [default: 'Redoubt CA <date> <random>']
    #[arg(long, value_name = "CN")]
    pub name: Option<String>,
    /// validity in days
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_CA_DAYS,
        value_parser = parse_days,
        allow_hyphen_values = true,
    )]
    pub days: u32,
    /// replace an existing CA
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub(super) struct ShowArgs {
    /// a PEM file of one or more certificates
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub(super) struct ProbeArgs {
    /// the TLS port to connect to
    #[arg(value_name = "HOST:PORT")]
    pub addr: String,
    /// the CA certificate(s) the served certificate must chain to
    #[arg(long, value_name = "FILE")]
    pub ca: PathBuf,
    /// a client certificate to present (with --key)
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// the key of the --cert certificate
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// the name the served certificate must be valid for [default: HOST]
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
}

/// `--days`: 1 to 36500.
fn parse_days(value: &str) -> Result<u32, String> {
    value
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=36_500).contains(d))
        .ok_or_else(|| "expected 1..36500".to_string())
}

/// Runs `redoubt certs ARGS...`; returns the process exit code (0 ok, 1 error). Errors are
/// one line on stderr.
pub fn run(args: &[String]) -> u8 {
    let mut out = std::io::stdout().lock();
    match run_to(args, &mut out) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("redoubt certs: {e}");
            1
        }
    }
}

/// [`run`] writing its report (or the help asked for) to `out`.
pub fn run_to(args: &[String], out: &mut dyn Write) -> Result<(), CertsError> {
    let argv = std::iter::once("redoubt certs").chain(args.iter().map(String::as_str));
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                | ErrorKind::DisplayVersion => commands::write_out(out, &e.render().to_string()),
                _ => Err(usage_error(&e, args)),
            }
        }
    };
    match cli.command {
        Command::Init(args) => commands::init(&args, out),
        Command::Issue(args) => commands::issue(&args, out),
        Command::NewCa(args) => commands::new_ca(&args, out),
        Command::Show(args) => commands::show(&args, out),
        Command::Probe(args) => commands::probe(&args, out),
    }
}

/// A clap error as one line: `<command>: <what> (see --help)`.
fn usage_error(e: &clap::Error, args: &[String]) -> CertsError {
    let context = |kind: ContextKind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(list)) => list.first().cloned().unwrap_or_default(),
        _ => String::new(),
    };
    // `--out <DIR>` or `--bogus=1` -> `--out`, `--bogus`; a positional `<FILE>` -> `FILE`.
    let arg = context(ContextKind::InvalidArg);
    let arg = if let Some(positional) = arg.strip_prefix('<') {
        positional.trim_end_matches('>').to_string()
    } else if arg.starts_with('-') {
        arg.split([' ', '=']).next().unwrap_or_default().to_string()
    } else {
        arg
    };
    let value = context(ContextKind::InvalidValue);
    let message = match e.kind() {
        ErrorKind::InvalidSubcommand => {
            return CertsError::Usage(format!(
                "unknown command '{}' ({}; see --help)",
                context(ContextKind::InvalidSubcommand),
                COMMANDS.join(", ")
            ))
        }
        ErrorKind::UnknownArgument if arg.starts_with('-') => format!("unknown option '{arg}'"),
        ErrorKind::UnknownArgument => format!("unexpected argument '{arg}'"),
        ErrorKind::MissingRequiredArgument if arg.starts_with('-') => {
            format!("'{arg}' is required")
        }
        ErrorKind::MissingRequiredArgument => format!("missing argument {arg}"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation if value.is_empty() => {
            format!("'{arg}' needs a value")
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let why = std::error::Error::source(e)
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            return CertsError::Usage(format!(
                "{}invalid value for '{arg}': '{value}'{why}",
                command_prefix(args)
            ));
        }
        // Anything else: the first line of clap's own message.
        _ => {
            let rendered = e.render().to_string();
            let line = rendered.lines().next().unwrap_or("invalid arguments");
            line.strip_prefix("error: ").unwrap_or(line).to_string()
        }
    };
    CertsError::Usage(format!("{}{message} (see --help)", command_prefix(args)))
}

/// `init: ` when the first argument names a subcommand, else nothing.
fn command_prefix(args: &[String]) -> String {
    match args.first() {
        Some(command) if COMMANDS.contains(&command.as_str()) => format!("{command}: "),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{run_err, run_ok};

    #[test]
    fn bad_arguments_are_one_line_errors() {
        for (list, expected) in [
            (&["init", "--nodes", "a"][..], "init: '--out' is required"),
            (
                &["init", "--out", "/tmp/x", "--nodes", "../evil"][..],
                "invalid node name",
            ),
            (
                &["init", "--out", "/tmp/x", "--nodes", "a", "--days", "0"][..],
                "init: invalid value for '--days': '0' (expected 1..36500)",
            ),
            (
                &["new-ca", "--out", "/tmp/x", "--days", "-1"][..],
                "new-ca: invalid value for '--days': '-1' (expected 1..36500)",
            ),
            (&["issue", "--name", "a"][..], "'--ca-dir' is required"),
            (
                &["issue", "--ca-dir", "/tmp/x", "--name"][..],
                "'--name' needs a value",
            ),
            (&["frobnicate"][..], "unknown command 'frobnicate'"),
            (&["show"][..], "show: missing argument FILE"),
            (&["show", "a", "b=c"][..], "unexpected argument 'b=c'"),
            (&["init", "--bogus=1"][..], "init: unknown option '--bogus'"),
            (&["init", "--bogus"][..], "init: unknown option '--bogus'"),
            (&["probe", "h:1", "--ca"][..], "'--ca' needs a value"),
        ] {
            let e = run_err(list);
            assert!(e.contains(expected), "{list:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn help_for_the_tool_and_each_command() {
        for help in [run_ok(&[]), run_ok(&["--help"]), run_ok(&["help"])] {
            assert!(help.contains("Commands:"), "{help}");
            assert!(help.contains("new-ca"), "{help}");
        }
        for (command, option) in [
            ("init", "--nodes"),
            ("issue", "--ca-dir"),
            ("new-ca", "--out"),
            ("show", "FILE"),
            ("probe", "--server-name"),
        ] {
            for flag in ["--help", "-h"] {
                let help = run_ok(&[command, flag]);
                assert!(
                    help.contains(&format!("Usage: redoubt certs {command}")),
                    "{help}"
                );
                assert!(help.contains(option), "{help}");
            }
            assert_eq!(run_ok(&["help", command]), run_ok(&[command, "--help"]));
        }
        // After other options too.
        let help = run_ok(&["init", "--force", "--out", "x", "--help"]);
        assert!(help.contains("Usage: redoubt certs init"), "{help}");
    }
}
