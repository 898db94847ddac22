//! DEBUG: the few subcommands Redoubt supports, refused unless `enable-debug-command` allows
//! the client (`yes`, or `local` for loopback clients).

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use redoubt_proto::resp::Frame;

use super::help;
use crate::commands::args::lower;
use crate::commands::CmdError;
use crate::config::DebugMode;
use crate::session::Session;

/// DEBUG SLEEP / SET-ACTIVE-EXPIRE / HELP, when `enable-debug-command` allows this client.
pub async fn run(s: &mut Session, argv: &[Bytes]) -> Result<Frame, CmdError> {
    let allowed = match s.node.debug_mode() {
        DebugMode::Yes => true,
        DebugMode::Local => s.handle.addr.ip().is_loopback(),
        DebugMode::No => false,
    };
    if !allowed {
        return Err(CmdError::other("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
    }
    let sub = lower(&argv[1]);
    Ok(match sub.as_str() {
        "sleep" if argv.len() == 3 => {
            let secs = crate::commands::args::parse_f64_opt(&argv[2]).unwrap_or(0.0);
            if secs > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(secs.min(3600.0))).await;
            }
            Frame::ok()
        }
        "set-active-expire" if argv.len() == 3 => {
            let on = argv[2].as_ref() != b"0";
            s.node.runtime.active_expire.store(on, Ordering::Relaxed);
            Frame::ok()
        }
        "help" => help(&[
            "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not accessed.",
            "HELP",
            "    Print this help.",
        ]),
        _ => {
            return Err(CmdError::Other(format!(
                "ERR unknown subcommand '{}'. Try DEBUG HELP.",
                String::from_utf8_lossy(&argv[1])
            )))
        }
    })
}
