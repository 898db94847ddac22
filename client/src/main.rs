//! `redoubt-cli [-h host] [-p port] [-a password] CMD ARGS...`: sends one command (after AUTH
//! when a password is given, or REDISCLI_AUTH is set) and prints the reply
//! like `redis-cli` does when its output is not a terminal. Exits with status 1 on an error
//! reply or a connection failure.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context};
use redoubt_client::{render_raw, Client};

const USAGE: &str = "usage: redoubt-cli [-h host] [-p port] [-a password] CMD [ARG...]";

struct Args {
    host: String,
    port: u16,
    password: Option<String>,
    argv: Vec<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> anyhow::Result<Args> {
    let mut host = "127.0.0.1".to_owned();
    let mut port = 6379;
    let mut argv = Vec::new();
    let mut password = std::env::var("REDISCLI_AUTH").ok();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" => host = args.next().context("-h needs a host")?,
            "-a" => password = Some(args.next().context("-a needs a password")?),
            "-p" => {
                let p = args.next().context("-p needs a port")?;
                port = p.parse().with_context(|| format!("invalid port '{p}'"))?;
            }
            "--" => {
                argv.extend(args);
                break;
            }
            _ => {
                // The command starts at the first non-option word.
                argv.push(arg);
                argv.extend(args);
                break;
            }
        }
    }
    if argv.is_empty() {
        bail!("no command given");
    }
    Ok(Args {
        host,
        port,
        password,
        argv,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let addr = format!("{}:{}", args.host, args.port);
    let reply = async {
        let mut client = Client::connect(&addr)
            .await
            .with_context(|| format!("Could not connect to Redoubt at {addr}"))?;
        if let Some(password) = &args.password {
            let auth = client.command(["AUTH", password.as_str()]).await?;
            if auth.is_error() {
                return anyhow::Ok(auth);
            }
        }
        let reply = client.command(&args.argv).await?;
        anyhow::Ok(reply)
    }
    .await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            eprintln!("{e:#}");
            return ExitCode::FAILURE;
        }
    };

    let mut out = Vec::new();
    render_raw(&reply, &mut out);
    out.push(b'\n');
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    if reply.is_error() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
