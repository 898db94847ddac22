//! Wire protocols of Redoubt: RESP for clients ([`resp`]) and the gRPC service between nodes
//! ([`peer`], generated from `redoubt.proto`).

pub mod resp;

/// The inter-node gRPC service (generated code).
#[allow(clippy::all, missing_docs)]
pub mod peer {
    tonic::include_proto!("redoubt.v1");
}
