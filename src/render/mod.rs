//! Rendering a `Plan`: text, markdown, json.
