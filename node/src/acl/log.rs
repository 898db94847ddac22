//! ACL LOG: this node's record of refused commands and failed authentications (as in Redis, the
//! log is per node: it describes the clients this node served).
