//! Executes a `Plan` against the API.
