//! Specs of the commands the connection loop carries out itself: connection, pub/sub,
//! transactions and server administration. Their code is in `server/`; their table entries
//! are here so that COMMAND, ACL and rename-command see every command the same way.

use super::flag::*;
use super::{CommandSpec, Exec, KeySpec};

macro_rules! server_cmd {
    ($name:expr, $group:expr, $arity:expr, $flags:expr, $acl:expr, $summary:expr, $since:expr) => {
        CommandSpec {
            name: $name,
            group: $group,
            summary: $summary,
            since: $since,
            arity: $arity,
            flags: $flags,
            acl: $acl,
            keys: KeySpec::NONE,
            exec: Exec::Server,
            subcommands: &[],
        }
    };
}

macro_rules! container {
    ($name:expr, $group:expr, $acl:expr, $summary:expr, $since:expr, $subs:expr) => {
        CommandSpec {
            name: $name,
            group: $group,
            summary: $summary,
            since: $since,
            arity: -2,
            flags: 0,
            acl: $acl,
            keys: KeySpec::NONE,
            exec: Exec::Container,
            subcommands: $subs,
        }
    };
}

const CONN: &[&str] = &["connection"];
const PUBSUB_CAT: &[&str] = &[];
const TX: &[&str] = &["transaction"];
const NONE: &[&str] = &[];

pub const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    server_cmd!(
        "client|id",
        "connection",
        2,
        NOSCRIPT | LOADING | STALE,
        CONN,
        "Returns the unique client ID of the connection.",
        "5.0.0"
    ),
    server_cmd!(
        "client|setname",
        "connection",
        3,
        NOSCRIPT | LOADING | STALE,
        CONN,
        "Sets the connection name.",
        "2.6.9"
    ),
    server_cmd!(
        "client|getname",
        "connection",
        2,
        NOSCRIPT | LOADING | STALE,
        CONN,
        "Returns the name of the connection.",
        "2.6.9"
    ),
    server_cmd!(
        "client|list",
        "connection",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        CONN,
        "Lists open connections.",
        "2.4.0"
    ),
    server_cmd!(
        "client|info",
        "connection",
        2,
        NOSCRIPT | LOADING | STALE,
        CONN,
        "Returns information about the connection.",
        "6.2.0"
    ),
    server_cmd!(
        "client|kill",
        "connection",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        CONN,
        "Terminates open connections.",
        "2.4.0"
    ),
    server_cmd!(
        "client|setinfo",
        "connection",
        4,
        NOSCRIPT | LOADING | STALE,
        CONN,
        "Sets information specific to the client or connection.",
        "7.2.0"
    ),
    server_cmd!(
        "client|help",
        "connection",
        2,
        LOADING | STALE,
        CONN,
        "Returns helpful text about the different subcommands.",
        "5.0.0"
    ),
];

pub const ACL_SUBCOMMANDS: &[CommandSpec] = &[
    server_cmd!(
        "acl|cat",
        "server",
        -2,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "Lists the ACL categories, or the commands inside a category.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|deluser",
        "server",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Deletes ACL users, and terminates their connections.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|dryrun",
        "server",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Simulates the execution of a command by a user, without executing the command.",
        "7.0.0"
    ),
    server_cmd!(
        "acl|genpass",
        "server",
        -2,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "Generates a pseudorandom, secure password that can be used to identify ACL users.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|getuser",
        "server",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Lists the ACL rules of a user.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|help",
        "server",
        2,
        LOADING | STALE,
        NONE,
        "Returns helpful text about the different subcommands.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|list",
        "server",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Dumps the effective rules in ACL file format.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|load",
        "server",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Reloads the rules from the configured ACL file.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|log",
        "server",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Lists recent security events generated due to commands rejected by ACL rules.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|save",
        "server",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Saves the effective ACL rules in the configured ACL file.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|setuser",
        "server",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Creates and modifies an ACL user and its rules.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|users",
        "server",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Lists all ACL users.",
        "6.0.0"
    ),
    server_cmd!(
        "acl|whoami",
        "server",
        2,
        NOSCRIPT | LOADING | STALE,
        NONE,
        "Returns the authenticated username of the current connection.",
        "6.0.0"
    ),
];

pub const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    server_cmd!(
        "config|get",
        "server",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Returns the effective values of configuration parameters.",
        "2.0.0"
    ),
    server_cmd!(
        "config|set",
        "server",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Sets configuration parameters in-flight.",
        "2.0.0"
    ),
    server_cmd!(
        "config|resetstat",
        "server",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Resets the server's statistics.",
        "2.0.0"
    ),
    server_cmd!(
        "config|rewrite",
        "server",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Persists the effective configuration to file.",
        "2.8.0"
    ),
    server_cmd!(
        "config|help",
        "server",
        2,
        LOADING | STALE,
        NONE,
        "Returns helpful text about the different subcommands.",
        "5.0.0"
    ),
];

pub const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    server_cmd!(
        "command|count",
        "server",
        2,
        LOADING | STALE,
        CONN,
        "Returns a count of commands.",
        "2.8.13"
    ),
    server_cmd!(
        "command|info",
        "server",
        -2,
        LOADING | STALE,
        CONN,
        "Returns information about one, multiple or all commands.",
        "2.8.13"
    ),
    server_cmd!(
        "command|docs",
        "server",
        -2,
        LOADING | STALE,
        CONN,
        "Returns documentary information about one, multiple or all commands.",
        "7.0.0"
    ),
    server_cmd!(
        "command|getkeys",
        "server",
        -3,
        LOADING | STALE,
        CONN,
        "Extracts the key names from an arbitrary command.",
        "2.8.13"
    ),
    server_cmd!(
        "command|list",
        "server",
        -2,
        LOADING | STALE,
        CONN,
        "Returns a list of command names.",
        "7.0.0"
    ),
    server_cmd!(
        "command|help",
        "server",
        2,
        LOADING | STALE,
        CONN,
        "Returns helpful text about the different subcommands.",
        "5.0.0"
    ),
];

pub const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    server_cmd!(
        "pubsub|channels",
        "pubsub",
        -2,
        PUBSUB | LOADING | STALE,
        PUBSUB_CAT,
        "Returns the active channels.",
        "2.8.0"
    ),
    server_cmd!(
        "pubsub|numsub",
        "pubsub",
        -2,
        PUBSUB | LOADING | STALE,
        PUBSUB_CAT,
        "Returns a count of subscribers to channels.",
        "2.8.0"
    ),
    server_cmd!(
        "pubsub|numpat",
        "pubsub",
        2,
        PUBSUB | LOADING | STALE,
        PUBSUB_CAT,
        "Returns a count of unique pattern subscriptions.",
        "2.8.0"
    ),
    server_cmd!(
        "pubsub|help",
        "pubsub",
        2,
        LOADING | STALE,
        PUBSUB_CAT,
        "Returns helpful text about the different subcommands.",
        "6.2.0"
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    // connection
    server_cmd!(
        "ping",
        "connection",
        -1,
        FAST,
        CONN,
        "Returns the server's liveliness response.",
        "1.0.0"
    ),
    server_cmd!(
        "echo",
        "connection",
        2,
        FAST,
        CONN,
        "Returns the given string.",
        "1.0.0"
    ),
    server_cmd!(
        "hello",
        "connection",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        CONN,
        "Handshakes with the Redis server.",
        "6.0.0"
    ),
    server_cmd!(
        "quit",
        "connection",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        CONN,
        "Closes the connection.",
        "1.0.0"
    ),
    server_cmd!(
        "reset",
        "connection",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        CONN,
        "Resets the connection.",
        "6.2.0"
    ),
    server_cmd!(
        "select",
        "connection",
        2,
        LOADING | STALE | FAST,
        CONN,
        "Changes the selected database.",
        "1.0.0"
    ),
    server_cmd!(
        "auth",
        "connection",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        CONN,
        "Authenticates the connection.",
        "1.0.0"
    ),
    container!(
        "client",
        "connection",
        NONE,
        "A container for client connection commands.",
        "2.4.0",
        CLIENT_SUBCOMMANDS
    ),
    // pub/sub
    server_cmd!(
        "subscribe",
        "pubsub",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        PUBSUB_CAT,
        "Listens for messages published to channels.",
        "2.0.0"
    ),
    server_cmd!(
        "unsubscribe",
        "pubsub",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        PUBSUB_CAT,
        "Stops listening to messages posted to channels.",
        "2.0.0"
    ),
    server_cmd!(
        "psubscribe",
        "pubsub",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        PUBSUB_CAT,
        "Listens for messages published to channels that match one or more patterns.",
        "2.0.0"
    ),
    server_cmd!(
        "punsubscribe",
        "pubsub",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        PUBSUB_CAT,
        "Stops listening to messages published to channels that match one or more patterns.",
        "2.0.0"
    ),
    server_cmd!(
        "publish",
        "pubsub",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        PUBSUB_CAT,
        "Posts a message to a channel.",
        "2.0.0"
    ),
    container!(
        "pubsub",
        "pubsub",
        NONE,
        "A container for Pub/Sub commands.",
        "2.8.0",
        PUBSUB_SUBCOMMANDS
    ),
    // transactions
    server_cmd!(
        "multi",
        "transactions",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        TX,
        "Starts a transaction.",
        "1.2.0"
    ),
    server_cmd!(
        "exec",
        "transactions",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        TX,
        "Executes all commands in a transaction.",
        "1.2.0"
    ),
    server_cmd!(
        "discard",
        "transactions",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        TX,
        "Discards a transaction.",
        "2.0.0"
    ),
    server_cmd!(
        "unwatch",
        "transactions",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        TX,
        "Forgets about watched keys of a transaction.",
        "2.2.0"
    ),
    CommandSpec {
        name: "watch",
        group: "transactions",
        summary: "Monitors changes to keys to determine the execution of a transaction.",
        since: "2.2.0",
        arity: -2,
        flags: NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        acl: TX,
        keys: KeySpec::ALL,
        exec: Exec::Server,
        subcommands: &[],
    },
    // server
    server_cmd!(
        "info",
        "server",
        -1,
        LOADING | STALE,
        &["dangerous"],
        "Returns information and statistics about the server.",
        "1.0.0"
    ),
    server_cmd!(
        "time",
        "server",
        1,
        LOADING | STALE | FAST,
        NONE,
        "Returns the server time.",
        "2.6.0"
    ),
    server_cmd!(
        "debug",
        "server",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "A container for debugging commands.",
        "1.0.0"
    ),
    server_cmd!(
        "monitor",
        "server",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        "Listens for all requests received by the server in real-time.",
        "1.0.0"
    ),
    server_cmd!(
        "lastsave",
        "server",
        1,
        LOADING | STALE | FAST,
        &["admin", "dangerous"],
        "Returns the Unix timestamp of the last successful save to disk.",
        "1.0.0"
    ),
    server_cmd!(
        "raft.info",
        "cluster",
        1,
        ADMIN | LOADING | STALE,
        NONE,
        "Returns the node's view of the Raft group: role, term, leader, indexes and members.",
        "0.1.0"
    ),
    server_cmd!(
        "raft.leader",
        "cluster",
        1,
        ADMIN | LOADING | STALE | FAST,
        NONE,
        "Returns the current leader's node id and peer address.",
        "0.1.0"
    ),
    server_cmd!(
        "raft.node",
        "cluster",
        -3,
        ADMIN | LOADING | STALE,
        NONE,
        "Adds (RAFT.NODE ADD id addr) or removes (RAFT.NODE REMOVE id) a member.",
        "0.1.0"
    ),
    server_cmd!(
        "raft.transfer",
        "cluster",
        2,
        ADMIN | LOADING | STALE,
        NONE,
        "Moves leadership to the given node.",
        "0.1.0"
    ),
    container!(
        "acl",
        "server",
        NONE,
        "A container for Access List Control commands.",
        "6.0.0",
        ACL_SUBCOMMANDS
    ),
    // Redis's replication handshake. Redoubt nodes replicate through Raft on the peer port, so
    // these only answer with an error; they exist so that `+psync` names the replication
    // permission (see acl::REPLICATION_COMMAND) as it does for a Redis masteruser.
    server_cmd!(
        "psync",
        "server",
        -3,
        ADMIN | NOSCRIPT | NO_MULTI,
        NONE,
        "An internal command used in replication.",
        "2.8.0"
    ),
    server_cmd!(
        "sync",
        "server",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        NONE,
        "An internal command used in replication.",
        "1.0.0"
    ),
    server_cmd!(
        "replconf",
        "server",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        NONE,
        "An internal command for configuring the replication stream.",
        "3.0.0"
    ),
    container!(
        "config",
        "server",
        NONE,
        "A container for server configuration commands.",
        "2.0.0",
        CONFIG_SUBCOMMANDS
    ),
    CommandSpec {
        name: "command",
        group: "server",
        summary: "Returns detailed information about all commands.",
        since: "2.8.13",
        arity: -1,
        flags: LOADING | STALE,
        acl: CONN,
        keys: KeySpec::NONE,
        exec: Exec::Container,
        subcommands: COMMAND_SUBCOMMANDS,
    },
];
