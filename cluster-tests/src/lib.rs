//! Helpers to start real redoubt processes for integration tests.
