//! Specs of the commands that are not data commands: connection, transactions, pub/sub and
//! server administration. Each names its [`ServerCmd`]; the connection (`server/connection/`)
//! carries out those that change a connection's state, `admin/` the others. Their table
//! entries are here so that COMMAND, ACL and rename-command see every command the same way.

use super::flag::*;
use super::{Channels, CommandSpec, Exec, KeySpec};

/// A command that is not a data command, by name: connection, transaction, pub/sub and
/// server commands. The connection loop and `admin/` match on it, so the compiler checks that
/// every one is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerCmd {
    Ping,
    Echo,
    Hello,
    Quit,
    Reset,
    Select,
    Auth,
    Subscribe,
    Unsubscribe,
    Psubscribe,
    Punsubscribe,
    Publish,
    Multi,
    Exec,
    Discard,
    Unwatch,
    Watch,
    Info,
    Time,
    Debug,
    Monitor,
    Lastsave,
    Bgsave,
    Psync,
    Sync,
    Replconf,
    Client(ClientCmd),
    Acl(AclCmd),
    Config(ConfigCmd),
    Command(CommandCmd),
    Pubsub(PubsubCmd),
    Raft(RaftCmd),
}

/// The subcommands of CLIENT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientCmd {
    Id,
    Setname,
    Getname,
    List,
    Info,
    Kill,
    Setinfo,
    Help,
}

/// The subcommands of ACL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AclCmd {
    Cat,
    Deluser,
    Dryrun,
    Genpass,
    Getuser,
    Help,
    List,
    Load,
    Log,
    Save,
    Setuser,
    Users,
    Whoami,
}

/// The subcommands of CONFIG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigCmd {
    Get,
    Set,
    Resetstat,
    Rewrite,
    Help,
}

/// The subcommands of COMMAND.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandCmd {
    All,
    Count,
    Info,
    Docs,
    Getkeys,
    List,
    Help,
}

/// The subcommands of PUBSUB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PubsubCmd {
    Channels,
    Numsub,
    Numpat,
    Help,
}

/// The subcommands of the RAFT.* commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaftCmd {
    Info,
    Leader,
    Node,
    Transfer,
}

const CONN: &[&str] = &["connection"];
const PUBSUB_CAT: &[&str] = &[];
const TX: &[&str] = &["transaction"];

pub const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "client|id",
        2,
        Exec::Server(ServerCmd::Client(ClientCmd::Id)),
    )
    .flags(NOSCRIPT | LOADING | STALE)
    .acl(CONN)
    .docs(
        "connection",
        "Returns the unique client ID of the connection.",
        "5.0.0",
    ),
    CommandSpec::new(
        "client|setname",
        3,
        Exec::Server(ServerCmd::Client(ClientCmd::Setname)),
    )
    .flags(NOSCRIPT | LOADING | STALE)
    .acl(CONN)
    .docs("connection", "Sets the connection name.", "2.6.9"),
    CommandSpec::new(
        "client|getname",
        2,
        Exec::Server(ServerCmd::Client(ClientCmd::Getname)),
    )
    .flags(NOSCRIPT | LOADING | STALE)
    .acl(CONN)
    .docs("connection", "Returns the name of the connection.", "2.6.9"),
    CommandSpec::new(
        "client|list",
        -2,
        Exec::Server(ServerCmd::Client(ClientCmd::List)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .acl(CONN)
    .docs("connection", "Lists open connections.", "2.4.0"),
    CommandSpec::new(
        "client|info",
        2,
        Exec::Server(ServerCmd::Client(ClientCmd::Info)),
    )
    .flags(NOSCRIPT | LOADING | STALE)
    .acl(CONN)
    .docs(
        "connection",
        "Returns information about the connection.",
        "6.2.0",
    ),
    CommandSpec::new(
        "client|kill",
        -3,
        Exec::Server(ServerCmd::Client(ClientCmd::Kill)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .acl(CONN)
    .docs("connection", "Terminates open connections.", "2.4.0"),
    CommandSpec::new(
        "client|setinfo",
        4,
        Exec::Server(ServerCmd::Client(ClientCmd::Setinfo)),
    )
    .flags(NOSCRIPT | LOADING | STALE)
    .acl(CONN)
    .docs(
        "connection",
        "Sets information specific to the client or connection.",
        "7.2.0",
    ),
    CommandSpec::new(
        "client|help",
        2,
        Exec::Server(ServerCmd::Client(ClientCmd::Help)),
    )
    .flags(LOADING | STALE)
    .acl(CONN)
    .docs(
        "connection",
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

pub const ACL_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("acl|cat", -2, Exec::Server(ServerCmd::Acl(AclCmd::Cat)))
        .flags(NOSCRIPT | LOADING | STALE)
        .docs(
            "server",
            "Lists the ACL categories, or the commands inside a category.",
            "6.0.0",
        ),
    CommandSpec::new(
        "acl|deluser",
        -3,
        Exec::Server(ServerCmd::Acl(AclCmd::Deluser)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .docs(
        "server",
        "Deletes ACL users, and terminates their connections.",
        "6.0.0",
    ),
    CommandSpec::new(
        "acl|dryrun",
        -4,
        Exec::Server(ServerCmd::Acl(AclCmd::Dryrun)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .docs(
        "server",
        "Simulates the execution of a command by a user, without executing the command.",
        "7.0.0",
    ),
    CommandSpec::new(
        "acl|genpass",
        -2,
        Exec::Server(ServerCmd::Acl(AclCmd::Genpass)),
    )
    .flags(NOSCRIPT | LOADING | STALE)
    .docs(
        "server",
        "Generates a pseudorandom, secure password that can be used to identify ACL users.",
        "6.0.0",
    ),
    CommandSpec::new(
        "acl|getuser",
        3,
        Exec::Server(ServerCmd::Acl(AclCmd::Getuser)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .docs("server", "Lists the ACL rules of a user.", "6.0.0"),
    CommandSpec::new("acl|help", 2, Exec::Server(ServerCmd::Acl(AclCmd::Help)))
        .flags(LOADING | STALE)
        .docs(
            "server",
            "Returns helpful text about the different subcommands.",
            "6.0.0",
        ),
    CommandSpec::new("acl|list", 2, Exec::Server(ServerCmd::Acl(AclCmd::List)))
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .docs(
            "server",
            "Dumps the effective rules in ACL file format.",
            "6.0.0",
        ),
    CommandSpec::new("acl|load", 2, Exec::Server(ServerCmd::Acl(AclCmd::Load)))
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .docs(
            "server",
            "Reloads the rules from the configured ACL file.",
            "6.0.0",
        ),
    CommandSpec::new("acl|log", -2, Exec::Server(ServerCmd::Acl(AclCmd::Log)))
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .docs(
            "server",
            "Lists recent security events generated due to commands rejected by ACL rules.",
            "6.0.0",
        ),
    CommandSpec::new("acl|save", 2, Exec::Server(ServerCmd::Acl(AclCmd::Save)))
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .docs(
            "server",
            "Saves the effective ACL rules in the configured ACL file.",
            "6.0.0",
        ),
    CommandSpec::new(
        "acl|setuser",
        -3,
        Exec::Server(ServerCmd::Acl(AclCmd::Setuser)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .docs(
        "server",
        "Creates and modifies an ACL user and its rules.",
        "6.0.0",
    ),
    CommandSpec::new("acl|users", 2, Exec::Server(ServerCmd::Acl(AclCmd::Users)))
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .docs("server", "Lists all ACL users.", "6.0.0"),
    CommandSpec::new(
        "acl|whoami",
        2,
        Exec::Server(ServerCmd::Acl(AclCmd::Whoami)),
    )
    .flags(NOSCRIPT | LOADING | STALE)
    .docs(
        "server",
        "Returns the authenticated username of the current connection.",
        "6.0.0",
    ),
];

pub const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "config|get",
        -3,
        Exec::Server(ServerCmd::Config(ConfigCmd::Get)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .docs(
        "server",
        "Returns the effective values of configuration parameters.",
        "2.0.0",
    ),
    CommandSpec::new(
        "config|set",
        -4,
        Exec::Server(ServerCmd::Config(ConfigCmd::Set)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .docs(
        "server",
        "Sets configuration parameters in-flight.",
        "2.0.0",
    ),
    CommandSpec::new(
        "config|resetstat",
        2,
        Exec::Server(ServerCmd::Config(ConfigCmd::Resetstat)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .docs("server", "Resets the server's statistics.", "2.0.0"),
    CommandSpec::new(
        "config|rewrite",
        2,
        Exec::Server(ServerCmd::Config(ConfigCmd::Rewrite)),
    )
    .flags(ADMIN | NOSCRIPT | LOADING | STALE)
    .docs(
        "server",
        "Persists the effective configuration to file.",
        "2.8.0",
    ),
    CommandSpec::new(
        "config|help",
        2,
        Exec::Server(ServerCmd::Config(ConfigCmd::Help)),
    )
    .flags(LOADING | STALE)
    .docs(
        "server",
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

pub const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "command|count",
        2,
        Exec::Server(ServerCmd::Command(CommandCmd::Count)),
    )
    .flags(LOADING | STALE)
    .acl(CONN)
    .docs("server", "Returns a count of commands.", "2.8.13"),
    CommandSpec::new(
        "command|info",
        -2,
        Exec::Server(ServerCmd::Command(CommandCmd::Info)),
    )
    .flags(LOADING | STALE)
    .acl(CONN)
    .docs(
        "server",
        "Returns information about one, multiple or all commands.",
        "2.8.13",
    ),
    CommandSpec::new(
        "command|docs",
        -2,
        Exec::Server(ServerCmd::Command(CommandCmd::Docs)),
    )
    .flags(LOADING | STALE)
    .acl(CONN)
    .docs(
        "server",
        "Returns documentary information about one, multiple or all commands.",
        "7.0.0",
    ),
    CommandSpec::new(
        "command|getkeys",
        -3,
        Exec::Server(ServerCmd::Command(CommandCmd::Getkeys)),
    )
    .flags(LOADING | STALE)
    .acl(CONN)
    .docs(
        "server",
        "Extracts the key names from an arbitrary command.",
        "2.8.13",
    ),
    CommandSpec::new(
        "command|list",
        -2,
        Exec::Server(ServerCmd::Command(CommandCmd::List)),
    )
    .flags(LOADING | STALE)
    .acl(CONN)
    .docs("server", "Returns a list of command names.", "7.0.0"),
    CommandSpec::new(
        "command|help",
        2,
        Exec::Server(ServerCmd::Command(CommandCmd::Help)),
    )
    .flags(LOADING | STALE)
    .acl(CONN)
    .docs(
        "server",
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

pub const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "pubsub|channels",
        -2,
        Exec::Server(ServerCmd::Pubsub(PubsubCmd::Channels)),
    )
    .flags(PUBSUB | LOADING | STALE)
    .acl(PUBSUB_CAT)
    .docs("pubsub", "Returns the active channels.", "2.8.0"),
    CommandSpec::new(
        "pubsub|numsub",
        -2,
        Exec::Server(ServerCmd::Pubsub(PubsubCmd::Numsub)),
    )
    .flags(PUBSUB | LOADING | STALE)
    .acl(PUBSUB_CAT)
    .docs(
        "pubsub",
        "Returns a count of subscribers to channels.",
        "2.8.0",
    ),
    CommandSpec::new(
        "pubsub|numpat",
        2,
        Exec::Server(ServerCmd::Pubsub(PubsubCmd::Numpat)),
    )
    .flags(PUBSUB | LOADING | STALE)
    .acl(PUBSUB_CAT)
    .docs(
        "pubsub",
        "Returns a count of unique pattern subscriptions.",
        "2.8.0",
    ),
    CommandSpec::new(
        "pubsub|help",
        2,
        Exec::Server(ServerCmd::Pubsub(PubsubCmd::Help)),
    )
    .flags(LOADING | STALE)
    .acl(PUBSUB_CAT)
    .docs(
        "pubsub",
        "Returns helpful text about the different subcommands.",
        "6.2.0",
    ),
];

pub const COMMANDS: &[CommandSpec] = &[
    // connection
    CommandSpec::new("ping", -1, Exec::Server(ServerCmd::Ping))
        .flags(FAST)
        .acl(CONN)
        .docs(
            "connection",
            "Returns the server's liveliness response.",
            "1.0.0",
        ),
    CommandSpec::new("echo", 2, Exec::Server(ServerCmd::Echo))
        .flags(FAST)
        .acl(CONN)
        .docs("connection", "Returns the given string.", "1.0.0"),
    CommandSpec::new("hello", -1, Exec::Server(ServerCmd::Hello))
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY)
        .acl(CONN)
        .docs("connection", "Handshakes with the Redis server.", "6.0.0"),
    CommandSpec::new("quit", -1, Exec::Server(ServerCmd::Quit))
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY)
        .acl(CONN)
        .docs("connection", "Closes the connection.", "1.0.0"),
    CommandSpec::new("reset", 1, Exec::Server(ServerCmd::Reset))
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY)
        .acl(CONN)
        .docs("connection", "Resets the connection.", "6.2.0"),
    CommandSpec::new("select", 2, Exec::Server(ServerCmd::Select))
        .flags(LOADING | STALE | FAST)
        .acl(CONN)
        .docs("connection", "Changes the selected database.", "1.0.0"),
    CommandSpec::new("auth", -2, Exec::Server(ServerCmd::Auth))
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY)
        .acl(CONN)
        .docs("connection", "Authenticates the connection.", "1.0.0"),
    CommandSpec::new("client", -2, Exec::Container)
        .subcommands(CLIENT_SUBCOMMANDS)
        .docs(
            "connection",
            "A container for client connection commands.",
            "2.4.0",
        ),
    // pub/sub
    CommandSpec::new("subscribe", -2, Exec::Server(ServerCmd::Subscribe))
        .channels(Channels::All)
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE)
        .acl(PUBSUB_CAT)
        .docs(
            "pubsub",
            "Listens for messages published to channels.",
            "2.0.0",
        ),
    CommandSpec::new("unsubscribe", -1, Exec::Server(ServerCmd::Unsubscribe))
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE)
        .acl(PUBSUB_CAT)
        .docs(
            "pubsub",
            "Stops listening to messages posted to channels.",
            "2.0.0",
        ),
    CommandSpec::new("psubscribe", -2, Exec::Server(ServerCmd::Psubscribe))
        .channels(Channels::AllPatterns)
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE)
        .acl(PUBSUB_CAT)
        .docs(
            "pubsub",
            "Listens for messages published to channels that match one or more patterns.",
            "2.0.0",
        ),
    CommandSpec::new("punsubscribe", -1, Exec::Server(ServerCmd::Punsubscribe))
        .flags(PUBSUB | NOSCRIPT | LOADING | STALE)
        .acl(PUBSUB_CAT)
        .docs(
            "pubsub",
            "Stops listening to messages published to channels that match one or more patterns.",
            "2.0.0",
        ),
    CommandSpec::new("publish", 3, Exec::Server(ServerCmd::Publish))
        .channels(Channels::First)
        .flags(PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE)
        .acl(PUBSUB_CAT)
        .docs("pubsub", "Posts a message to a channel.", "2.0.0"),
    CommandSpec::new("pubsub", -2, Exec::Container)
        .subcommands(PUBSUB_SUBCOMMANDS)
        .docs("pubsub", "A container for Pub/Sub commands.", "2.8.0"),
    // transactions
    CommandSpec::new("multi", 1, Exec::Server(ServerCmd::Multi))
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY)
        .acl(TX)
        .docs("transactions", "Starts a transaction.", "1.2.0"),
    CommandSpec::new("exec", 1, Exec::Server(ServerCmd::Exec))
        .flags(NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG)
        .acl(TX)
        .docs(
            "transactions",
            "Executes all commands in a transaction.",
            "1.2.0",
        ),
    CommandSpec::new("discard", 1, Exec::Server(ServerCmd::Discard))
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY)
        .acl(TX)
        .docs("transactions", "Discards a transaction.", "2.0.0"),
    CommandSpec::new("unwatch", 1, Exec::Server(ServerCmd::Unwatch))
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY)
        .acl(TX)
        .docs(
            "transactions",
            "Forgets about watched keys of a transaction.",
            "2.2.0",
        ),
    CommandSpec::new("watch", -2, Exec::Server(ServerCmd::Watch))
        .flags(NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY)
        .acl(TX)
        .keys(&[KeySpec::index(1).range(-1, 1, 0).flags(super::key_flag::RO)])
        .docs(
            "transactions",
            "Monitors changes to keys to determine the execution of a transaction.",
            "2.2.0",
        ),
    // server
    CommandSpec::new("info", -1, Exec::Server(ServerCmd::Info))
        .flags(LOADING | STALE)
        .acl(&["dangerous"])
        .docs(
            "server",
            "Returns information and statistics about the server.",
            "1.0.0",
        ),
    CommandSpec::new("time", 1, Exec::Server(ServerCmd::Time))
        .flags(LOADING | STALE | FAST)
        .docs("server", "Returns the server time.", "2.6.0"),
    CommandSpec::new("debug", -2, Exec::Server(ServerCmd::Debug))
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .docs("server", "A container for debugging commands.", "1.0.0"),
    CommandSpec::new("monitor", 1, Exec::Server(ServerCmd::Monitor))
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .docs(
            "server",
            "Listens for all requests received by the server in real-time.",
            "1.0.0",
        ),
    // The keyspace's RDB is the Raft snapshot: BGSAVE asks for one now (writes go on).
    CommandSpec::new("bgsave", -1, Exec::Server(ServerCmd::Bgsave))
        .flags(ADMIN | NOSCRIPT)
        .acl(&["dangerous"])
        .docs(
            "server",
            "Asynchronously saves the database(s) to disk.",
            "1.0.0",
        ),
    CommandSpec::new("lastsave", 1, Exec::Server(ServerCmd::Lastsave))
        .flags(LOADING | STALE | FAST)
        .acl(&["admin", "dangerous"])
        .docs(
            "server",
            "Returns the Unix timestamp of the last successful save to disk.",
            "1.0.0",
        ),
    CommandSpec::new("raft.info", 1, Exec::Server(ServerCmd::Raft(RaftCmd::Info)))
        .flags(ADMIN | LOADING | STALE)
        .docs(
            "cluster",
            "Returns the node's view of the Raft group: role, term, leader, indexes and members.",
            "0.1.0",
        ),
    CommandSpec::new(
        "raft.leader",
        1,
        Exec::Server(ServerCmd::Raft(RaftCmd::Leader)),
    )
    .flags(ADMIN | LOADING | STALE | FAST)
    .docs(
        "cluster",
        "Returns the current leader's node id and peer address.",
        "0.1.0",
    ),
    CommandSpec::new(
        "raft.node",
        -3,
        Exec::Server(ServerCmd::Raft(RaftCmd::Node)),
    )
    .flags(ADMIN | LOADING | STALE)
    .docs(
        "cluster",
        "Adds (RAFT.NODE ADD id addr) or removes (RAFT.NODE REMOVE id) a member.",
        "0.1.0",
    ),
    CommandSpec::new(
        "raft.transfer",
        2,
        Exec::Server(ServerCmd::Raft(RaftCmd::Transfer)),
    )
    .flags(ADMIN | LOADING | STALE)
    .docs("cluster", "Moves leadership to the given node.", "0.1.0"),
    CommandSpec::new("acl", -2, Exec::Container)
        .subcommands(ACL_SUBCOMMANDS)
        .docs(
            "server",
            "A container for Access List Control commands.",
            "6.0.0",
        ),
    // Redis's replication handshake. Redoubt nodes replicate through Raft on the peer port, so
    // these only answer with an error; they exist so that `+psync` names the replication
    // permission (see acl::REPLICATION_COMMAND) as it does for a Redis masteruser.
    CommandSpec::new("psync", -3, Exec::Server(ServerCmd::Psync))
        .flags(ADMIN | NOSCRIPT | NO_MULTI)
        .docs(
            "server",
            "An internal command used in replication.",
            "2.8.0",
        ),
    CommandSpec::new("sync", 1, Exec::Server(ServerCmd::Sync))
        .flags(ADMIN | NOSCRIPT | NO_MULTI)
        .docs(
            "server",
            "An internal command used in replication.",
            "1.0.0",
        ),
    CommandSpec::new("replconf", -1, Exec::Server(ServerCmd::Replconf))
        .flags(ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .docs(
            "server",
            "An internal command for configuring the replication stream.",
            "3.0.0",
        ),
    CommandSpec::new("config", -2, Exec::Container)
        .subcommands(CONFIG_SUBCOMMANDS)
        .docs(
            "server",
            "A container for server configuration commands.",
            "2.0.0",
        ),
    CommandSpec::new(
        "command",
        -1,
        Exec::Server(ServerCmd::Command(CommandCmd::All)),
    )
    .flags(LOADING | STALE)
    .acl(CONN)
    .subcommands(COMMAND_SUBCOMMANDS)
    .docs(
        "server",
        "Returns detailed information about all commands.",
        "2.8.13",
    ),
];
