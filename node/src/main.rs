//! `redoubt`: start a node. `redoubt [--config FILE] [--directive value]...`

use std::process::ExitCode;
use std::sync::Mutex;

use redoubt_node::config::{env_overrides, parse_args, Config};
use redoubt_node::server::{PeerTlsConfigs, Server, ServerTls};
use redoubt_node::tls::{AuthClientsUser, TlsConfig};
use tracing_subscriber::prelude::*;
use tracing_subscriber::{reload, EnvFilter};

const USAGE: &str = "Usage: redoubt [--config FILE] [--<directive> <value>]...

Starts a Redoubt node. Directives use Redis's names (port, bind, dir, logfile,
loglevel, maxclients, timeout, proto-max-bulk-len, protected-mode, rename-command,
enable-debug-command, ...). Layers: defaults < config file (TOML) < REDOUBT_<NAME>
environment variables < command-line flags.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("certs") {
        return ExitCode::from(redoubt_node::certs::run(&args[1..]));
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("redoubt {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    // Before anything creates a file (the logfile, sled, snapshots): private by default.
    redoubt_node::files::restrict_umask();
    let config = match parse_args(&args)
        .and_then(|(file, flags)| Config::load(file.as_deref(), &env_overrides(), &flags))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("redoubt: {e}");
            return ExitCode::from(1);
        }
    };
    // TLS directives are validated with the rest of the configuration: one line, exit 1.
    let tls_config = match TlsConfig::from_directives(|name| config.raw_value(name))
        .and_then(|t| t.validate().map(|()| t))
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("redoubt: {e}");
            return ExitCode::from(1);
        }
    };
    let set_filter = match init_logging(&config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("redoubt: {e}");
            return ExitCode::from(1);
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = std::env::var("REDOUBT_WORKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        builder.worker_threads(n.max(1));
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("redoubt: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(config, tls_config, set_filter)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("redoubt: {e:#}");
            ExitCode::from(1)
        }
    }
}

type SetFilter = Box<dyn Fn(&str) + Send + Sync>;

/// tracing to stderr or `logfile`, at `loglevel`; the returned closure changes the level.
fn init_logging(config: &Config) -> Result<SetFilter, String> {
    let filter = EnvFilter::try_new(config.loglevel.filter()).map_err(|e| e.to_string())?;
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    if config.logfile.is_empty() {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(false)
                    .with_filter(tracing_subscriber::filter::dynamic_filter_fn(|meta, _| {
                        redoubt_node::logsafe::library_flood_filter(meta)
                    })),
            )
            .try_init()
            .map_err(|e| e.to_string())?;
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
            .map_err(|e| format!("invalid value for 'logfile': '{}' ({e})", config.logfile))?;
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(Mutex::new(file))
                    .with_ansi(false)
                    .with_filter(tracing_subscriber::filter::dynamic_filter_fn(|meta, _| {
                        redoubt_node::logsafe::library_flood_filter(meta)
                    })),
            )
            .try_init()
            .map_err(|e| e.to_string())?;
    }
    Ok(Box::new(move |spec: &str| {
        if let Ok(f) = EnvFilter::try_new(spec) {
            let _ = handle.reload(f);
        }
    }))
}

async fn run(config: Config, tls: TlsConfig, set_filter: SetFilter) -> anyhow::Result<()> {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        port = config.port,
        dir = %config.dir.display(),
        node_id = config.node_id,
        "starting redoubt"
    );
    redoubt_node::tls::install_default_crypto_provider();
    // Certificates reload by themselves (file watcher, periodic re-check, SIGHUP); the
    // watchers live as long as the node.
    let mut reloadable = Vec::new();
    let mut watchers = Vec::new();
    let peer_tls = match tls.load_peer_tls()? {
        Some(peer) => {
            watchers.push(peer.watch()?);
            reloadable.push(peer.certs().clone());
            Some(PeerTlsConfigs {
                client: peer.client_config(),
                server: peer.server_config(),
                node_name: peer.node_identity().unwrap_or_default(),
            })
        }
        None => None,
    };
    let client_tls = match tls.load_client_tls()? {
        Some(client) => {
            watchers.push(client.watch()?);
            reloadable.push(client.certs().clone());
            Some(client.server_config())
        }
        None => None,
    };
    if !reloadable.is_empty() {
        redoubt_node::tls::spawn_reload_on_sighup(reloadable)?;
    }
    let tls_port = (tls.tls_port != 0).then_some(tls.tls_port);
    let cn_names_user = tls.tls_auth_clients_user == AuthClientsUser::CommonName;
    let server = Server::start(
        config,
        ServerTls {
            peer: peer_tls,
            client: client_tls,
            port: tls_port,
            cn_names_user,
        },
        set_filter,
    )
    .await?;
    let serving = tokio::spawn(server.clone().serve());
    let waiting = server.clone();
    tokio::spawn(async move {
        if !waiting
            .raft
            .wait_for_leader(std::time::Duration::from_secs(10))
            .await
        {
            tracing::warn!("no raft leader after 10s; writes answer TRYAGAIN until there is one");
        }
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = serving => { r??; }
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, shutting down"),
        _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
    }
    // A Raft core stuck on a failing disk must not keep the process alive: shutdown is bounded.
    if tokio::time::timeout(std::time::Duration::from_secs(5), server.raft.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("raft did not stop within 5s; exiting anyway");
    }
    drop(watchers);
    tracing::info!("bye");
    Ok(())
}
